#pragma once
// FileLock: one writer per output. An exclusive advisory lock (flock(2)) on the file a run writes
// in place — OUT.partial of extract and baseline — held for the run's lifetime, so that a second
// run on the same output (with --restart too) stops at once with an Error naming the file and the
// pid of the process that holds it, instead of both writing one file. The kernel drops the lock
// when the holder exits, however it exits (kill -9 included): a stale lock cannot exist.
//
// Within one process, locking a path that this process already holds shares that lock (a command
// may lock its output early, before the writer that locks it again is made). Advisory: only
// processes that ask for the lock are kept out (every ishannot writer does).
#include <memory>
#include <string>

namespace ishannot {

class FileLock {
 public:
  FileLock() = default;
  /// Locks `path`, creating it empty when absent (and removing it again at release when still
  /// empty). Throws Error "PATH: another process (pid N) is writing it ..." when another process
  /// holds it, or naming the problem when it cannot be opened (a folder, no permission).
  explicit FileLock(const std::string& path);

  bool held() const { return state_ != nullptr; }
  /// Drops this handle's share of the lock (the lock goes when the last share goes).
  void release() { state_.reset(); }

  struct State;  ///< the open descriptor (opaque; shared by the handles of one process)

 private:
  std::shared_ptr<State> state_;
};

/// The pid of a process holding a flock(2) lock on `path` (from /proc/locks), or 0 when none is
/// found (no lock, or /proc not mounted).
long lock_holder_pid(const std::string& path);

}  // namespace ishannot
