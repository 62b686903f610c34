#pragma once
// Internal: carrying exceptions out of OpenMP loops. An exception may not leave a parallel region
// (the program would terminate), so every loop body runs through LoopErrors::run, and after the
// loop rethrow() raises the exception of the lowest failing index: the error a user sees does not
// depend on thread timing (faiss collects worker exceptions the same way).
//
//   detail::LoopErrors errors;
//   #pragma omp parallel for schedule(dynamic)
//   for (int64_t i = 0; i < n; ++i) errors.run(i, [&] { work(i); });
//   errors.rethrow();
#include <atomic>
#include <cstdint>
#include <exception>
#include <limits>
#include <mutex>

namespace ishannot::detail {

class LoopErrors {
 public:
  /// Runs body(); an exception it throws is kept (the one of the lowest index wins).
  template <class Body>
  void run(int64_t index, Body&& body) noexcept {
    try {
      body();
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (index < index_) {
        index_ = index;
        error_ = std::current_exception();
      }
      failed_.store(true, std::memory_order_relaxed);
    }
  }
  /// True once an iteration has failed (later iterations may skip their work).
  bool failed() const { return failed_.load(std::memory_order_relaxed); }
  /// Rethrows the kept exception, if any.
  void rethrow() {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  std::mutex mutex_;
  std::atomic<bool> failed_{false};
  int64_t index_ = std::numeric_limits<int64_t>::max();
  std::exception_ptr error_;
};

}  // namespace ishannot::detail
