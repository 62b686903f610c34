#pragma once
// Shared by the two extensions (_core, _nets): ishannot::Error as the one Python class
// ishannot.Error, progress callbacks called with the GIL, thread counts, NumPy results that own
// their buffers. Internal to python/src.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ishannot/common/progress.h"

namespace ishannot::python {

namespace py = pybind11;

/// _core: creates ishannot._core.Error (the Python layer re-exports it as ishannot.Error) and
/// translates ishannot::Error into it, with the same one-line message.
void register_error(py::module_& m);

/// _nets: translates ishannot::Error into the class _core created (imported from _core).
void use_core_error();

/// A Python exception raised with ishannot.Error's class (e.g. a bad argument found here).
[[noreturn]] void raise_error(const std::string& message);

/// A Reporter that calls `callback(stage, done, total)` (a Python callable or None) with the GIL
/// held, from whichever thread reports. The first exception the callback raises stops further
/// calls and is raised again by rethrow() once the C++ work is over (with the GIL held).
class Progress {
 public:
  explicit Progress(py::object callback);
  ~Progress();
  const Reporter& reporter() const { return reporter_; }
  /// Raises the callback's exception, if it raised one. Call with the GIL held.
  void rethrow();

 private:
  struct State;
  std::shared_ptr<State> state_;
  Reporter reporter_;
};

/// Sets the thread count of OpenMP (and returns it): 0 = every CPU of the affinity mask, as the
/// CLI's --threads.
int apply_threads(int threads);

/// A NumPy array (rows x cols, or 1-D when cols < 0) that takes over `values` (no copy).
template <typename T>
py::array_t<T> to_numpy(std::vector<T>&& values, int64_t rows, int64_t cols = -1) {
  auto* owned = new std::vector<T>(std::move(values));
  py::capsule free_when_done(owned, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  if (cols < 0) return py::array_t<T>({rows}, owned->data(), free_when_done);
  return py::array_t<T>({rows, cols}, owned->data(), free_when_done);
}

}  // namespace ishannot::python
