// FileLock (common/file_lock.h): flock(2) on an open descriptor, a per-process table of the locks
// held (to share them), and the holder's pid read from /proc/locks for the message.
#include "ishannot/common/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "ishannot/common/error.h"

namespace ishannot {

struct FileLock::State {
  int fd = -1;
  std::string path;
  bool created = false;  // the lock made the file: remove it if nothing was written into it
  ~State() {
    if (fd < 0) return;
    struct stat st {
    }, named{};
    if (created && fstat(fd, &st) == 0 && st.st_size == 0 && stat(path.c_str(), &named) == 0 &&
        named.st_ino == st.st_ino && named.st_dev == st.st_dev)
      unlink(path.c_str());
    close(fd);  // closing the descriptor drops the flock
  }
};

namespace {

std::mutex table_mutex;
std::map<std::string, std::weak_ptr<FileLock::State>>& held_locks() {
  static std::map<std::string, std::weak_ptr<FileLock::State>> table;
  return table;
}

std::string key_of(const std::string& path) {
  std::error_code ec;
  const auto absolute = std::filesystem::absolute(path, ec);
  return ec ? path : absolute.lexically_normal().string();
}

}  // namespace

long lock_holder_pid(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return 0;
  std::ifstream locks("/proc/locks");
  // "1: FLOCK  ADVISORY  WRITE 12345 08:01:1234567 0 EOF" (device in hex, inode in decimal)
  for (std::string line; std::getline(locks, line);) {
    std::istringstream fields(line);
    std::string index, kind, mode, access, device;
    long pid = 0;
    if (!(fields >> index >> kind)) continue;
    if (kind == "->") fields >> kind;  // a blocked waiter's line
    if (!(fields >> mode >> access >> pid >> device)) continue;
    if (kind != "FLOCK") continue;
    unsigned major_id = 0, minor_id = 0;
    unsigned long long inode = 0;
    if (std::sscanf(device.c_str(), "%x:%x:%llu", &major_id, &minor_id, &inode) != 3) continue;
    if (inode == static_cast<unsigned long long>(st.st_ino) && major_id == major(st.st_dev) &&
        minor_id == minor(st.st_dev) && pid != static_cast<long>(getpid()))
      return pid;
  }
  return 0;
}

FileLock::FileLock(const std::string& path) {
  const std::string key = key_of(path);
  std::lock_guard<std::mutex> guard(table_mutex);
  if (auto shared = held_locks()[key].lock()) {
    state_ = shared;
    return;
  }
  // A run that removes or replaces the file between our open and our lock leaves us holding a
  // lock on a name that no longer points at it: check, and try again.
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto state = std::make_shared<State>();
    state->path = path;
    state->fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (state->fd < 0 && errno == ENOENT) {
      state->fd = open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      state->created = state->fd >= 0;
      if (state->fd < 0 && errno == EEXIST) continue;  // made by another process just now
    }
    if (state->fd < 0) {
      const int error = errno;
      if (error == EISDIR) throw file_error(path, "is a folder (expected a file to write)");
      throw file_error(path, std::string("cannot open for writing: ") + std::strerror(error));
    }
    if (flock(state->fd, LOCK_EX | LOCK_NB) != 0) {
      const int error = errno;
      if (error != EWOULDBLOCK)
        throw file_error(path, std::string("cannot lock: ") + std::strerror(error));
      const long pid = lock_holder_pid(path);
      throw file_error(path, "another process" +
                                 (pid > 0 ? " (pid " + std::to_string(pid) + ")" : std::string()) +
                                 " is writing it; wait for it to finish or stop it first");
    }
    struct stat by_name {
    }, by_fd{};
    if (stat(path.c_str(), &by_name) == 0 && fstat(state->fd, &by_fd) == 0 &&
        by_name.st_ino == by_fd.st_ino && by_name.st_dev == by_fd.st_dev) {
      held_locks()[key] = state;
      state_ = std::move(state);
      return;
    }
  }
  throw file_error(path, "cannot lock: the file keeps being replaced by another process");
}

}  // namespace ishannot
