// The disk discipline of HDF5 files written in place (detail/hdf5_disk.h): fsync per step, room
// checked and reserved before a step, a safe close after a refused write.
#include "detail/hdf5_disk.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "detail/hdf5_util.h"
#include "ishannot/common/error.h"

namespace ishannot::detail {

int hdf5_descriptor(hid_t file) {
  void* handle = nullptr;
  if (H5Fget_vfd_handle(file, H5P_DEFAULT, &handle) < 0 || handle == nullptr) return -1;
  return *static_cast<int*>(handle);
}

// Flushes HDF5's buffers and asks the kernel to put them on the disk (fsync): delayed allocation
// reports ENOSPC at fsync on some file systems.
void sync_hdf5(hid_t file, const std::string& path, const std::string& step) {
  check_write(H5Fflush(file, H5F_SCOPE_LOCAL), path, step);
  const int fd = hdf5_descriptor(file);
  if (fd < 0) return;
  if (fsync(fd) != 0) {
    const int error = errno;
    throw file_error(path, step + ": " +
                               (error == ENOSPC   ? std::string("disk full (no space left)")
                                : error == EDQUOT ? std::string("disk full (quota exceeded)")
                                                  : std::string(std::strerror(error))));
  }
}

void reserve_room(hid_t file, const std::string& path, double growth, const std::string& what,
                  const std::string& kept) {
  struct stat st {};
  const double size = stat(path.c_str(), &st) == 0 ? static_cast<double>(st.st_size) : 0.0;
  rlimit limit{};
  if (getrlimit(RLIMIT_FSIZE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY &&
      size + growth > static_cast<double>(limit.rlim_cur))
    throw file_error(path, "file-size limit (ulimit -f) reached: " +
                               std::to_string(static_cast<long long>(limit.rlim_cur)) +
                               " bytes allowed, " + what + " needs the file to grow to about " +
                               std::to_string(static_cast<long long>(size + growth)) + "; " + kept +
                               " (raise the limit and rerun to resume)");
  // Reserve the blocks (beyond the end of the file, its size unchanged): HDF5's writes of this
  // step then cannot meet a full disk, even one another process is filling. Where the file
  // system cannot reserve, compare with its free space.
  const std::string folder = std::filesystem::path(path).parent_path().string();
  auto free_space = [&] {
    struct statvfs vfs {};
    return statvfs(folder.empty() ? "." : folder.c_str(), &vfs) == 0
               ? static_cast<double>(vfs.f_bavail) * static_cast<double>(vfs.f_frsize)
               : -1.0;
  };
  bool reserved = false, full = false;
  const int fd = hdf5_descriptor(file);
  if (fd >= 0) {
    if (fallocate(fd, FALLOC_FL_KEEP_SIZE, static_cast<off_t>(size), static_cast<off_t>(growth)) ==
        0)
      reserved = true;
    else
      full = errno == ENOSPC || errno == EDQUOT;
  }
  if (!reserved && !full) {
    const double available = free_space();
    full = available >= 0 && available < growth;
  }
  if (full)
    throw file_error(path, "disk full: " + std::to_string(static_cast<long long>(free_space())) +
                               " bytes free, " + what + " needs about " +
                               std::to_string(static_cast<long long>(growth)) + "; " + kept +
                               " (free some space and rerun to resume)");
}

// After a write failed, HDF5 holds changes the disk refused; closing would try them again, fail
// again, and HDF5 would crash at exit cleaning up the file it could not close.
void abandon_pending_writes(hid_t file) {
  const int fd = hdf5_descriptor(file);
  if (fd < 0) return;
  const int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (null_fd < 0) return;
  dup2(null_fd, fd);
  ::close(null_fd);
}

void release_reservation(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) == 0) (void)truncate(path.c_str(), st.st_size);
}

}  // namespace ishannot::detail
