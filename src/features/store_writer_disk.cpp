// The feature-store writer's disk discipline (detail/store_writer.h): each step flushed and
// fsync'ed, the room for a batch checked (RLIMIT_FSIZE) and reserved (fallocate, else statvfs)
// before HDF5 writes anything, and HDF5 closed safely after a write the disk refused.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "detail/store_writer.h"

namespace ishannot {

using detail::check_write;
using detail::Hid;
namespace fs = std::filesystem;

namespace detail {
hsize_t chunk_rows(int64_t dim, size_t element) {
  const double per_row = static_cast<double>(dim) * static_cast<double>(element);
  return static_cast<hsize_t>(std::clamp(262144.0 / per_row, 1.0, 4096.0));
}

}  // namespace detail

// Flushes HDF5's buffers and asks the kernel to put them on the disk (fsync): after sync, what
// was written survives a crash, and a full disk has been reported (delayed allocation reports
// ENOSPC at fsync on some file systems).
void FeatureStoreWriter::Impl::sync(const std::string& step) {
  check_write(H5Fflush(file.get(), H5F_SCOPE_LOCAL), tmp, step);
  void* handle = nullptr;
  if (H5Fget_vfd_handle(file.get(), H5P_DEFAULT, &handle) < 0 || handle == nullptr) return;
  if (fsync(*static_cast<int*>(handle)) != 0) {
    const int error = errno;
    throw file_error(tmp, step + ": " +
                              (error == ENOSPC   ? std::string("disk full (no space left)")
                               : error == EDQUOT ? std::string("disk full (quota exceeded)")
                                                 : std::string(std::strerror(error))));
  }
}

// Before a batch: room for it on the file system and under RLIMIT_FSIZE, with a margin for
// HDF5's own growth (chunk index, heap). Failing here, before HDF5 writes anything, leaves the
// partial exactly as the last batch left it.
void FeatureStoreWriter::Impl::check_room(size_t n) const {
  const size_t element = dtype == FeatureDtype::kFloat16 ? 2 : 4;
  double growth = 256.0 * 1024;  // metadata margin
  for (const auto& layer : layers) {
    const double chunk = static_cast<double>(detail::chunk_rows(layer.dim, element));
    const double chunks_now = std::ceil(static_cast<double>(rows) / chunk);
    const double chunks_after =
        std::ceil(static_cast<double>(rows + static_cast<int64_t>(n)) / chunk);
    growth += (chunks_after - chunks_now) * chunk * static_cast<double>(layer.dim) *
              static_cast<double>(element);
  }
  growth += static_cast<double>(n) * 64.0;  // ids
  struct stat st {};
  const double size = stat(tmp.c_str(), &st) == 0 ? static_cast<double>(st.st_size) : 0.0;
  rlimit limit{};
  if (getrlimit(RLIMIT_FSIZE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY &&
      size + growth > static_cast<double>(limit.rlim_cur))
    throw file_error(tmp, "file-size limit (ulimit -f) reached: " +
                              std::to_string(static_cast<long long>(limit.rlim_cur)) +
                              " bytes allowed, the next batch needs the file to grow to about " +
                              std::to_string(static_cast<long long>(size + growth)) + "; the " +
                              std::to_string(rows) +
                              " rows written are kept (raise the limit and rerun to resume)");
  // Reserve the blocks (beyond the end of the file, its size unchanged): HDF5's writes of this
  // batch then cannot meet a full disk, even one another process is filling. Where the file
  // system cannot reserve, compare with its free space.
  const std::string folder = fs::path(tmp).parent_path().string();
  auto free_space = [&] {
    struct statvfs vfs {};
    return statvfs(folder.empty() ? "." : folder.c_str(), &vfs) == 0
               ? static_cast<double>(vfs.f_bavail) * static_cast<double>(vfs.f_frsize)
               : -1.0;
  };
  bool reserved = false, full = false;
  const int fd = descriptor();
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
    throw file_error(tmp, "disk full: " + std::to_string(static_cast<long long>(free_space())) +
                              " bytes free, the next batch needs about " +
                              std::to_string(static_cast<long long>(growth)) + "; the " +
                              std::to_string(rows) +
                              " rows written are kept (free some space and rerun to resume)");
}

int FeatureStoreWriter::Impl::descriptor() const {
  void* handle = nullptr;
  if (!file.valid() || H5Fget_vfd_handle(file.get(), H5P_DEFAULT, &handle) < 0 || !handle)
    return -1;
  return *static_cast<int*>(handle);
}

// After a write failed, HDF5 holds changes the disk refused; closing would try them again, fail
// again, and HDF5 would crash at exit cleaning up the file it could not close. Point its
// descriptor at /dev/null: the close then succeeds without touching the partial, which keeps
// what the last committed batch left (complete_rows says how much).
void FeatureStoreWriter::Impl::abandon_pending_writes() {
  const int fd = descriptor();
  if (fd < 0) return;
  const int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (null_fd < 0) return;
  dup2(null_fd, fd);
  ::close(null_fd);
}

// Releases what the reservations of check_room did not use (blocks beyond the end of the file).
void FeatureStoreWriter::Impl::release_reservation() const {
  struct stat st {};
  if (stat(tmp.c_str(), &st) == 0) (void)truncate(tmp.c_str(), st.st_size);
}

void FeatureStoreWriter::Impl::close_file() {
  if (failed) abandon_pending_writes();
  layer_datasets.clear();
  ids_dataset.reset();
  if (!file.valid()) return;
  const herr_t status = H5Fclose(file.get());
  file = Hid();
  release_reservation();
  if (!failed) check_write(status, tmp, "cannot close the feature store");
}

}  // namespace ishannot
