#include "common_bind.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#include "ishannot/common/error.h"
#include "ishannot/common/threads.h"

namespace ishannot::python {

namespace {

// The class ishannot.Error, created by _core, looked up once by _nets.
py::handle& error_class() {
  static py::handle cls;
  return cls;
}

void install_translator() {
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ishannot::Error& e) {
      PyErr_SetString(error_class().ptr(), e.what());
    }
  });
}

}  // namespace

void register_error(py::module_& m) {
  static py::exception<ishannot::Error> cls(m, "Error", PyExc_Exception);
  cls.attr("__doc__") =
      "An error about the input (a file, an array, a value): the same one-line message as the "
      "command line's, naming the file or the value and the problem.";
  error_class() = cls;
  install_translator();
}

void use_core_error() {
  py::object cls = py::module_::import("ishannot._core").attr("Error");
  error_class() = cls.release();
  install_translator();
}

void raise_error(const std::string& message) {
  throw ishannot::Error(message);
}

struct Progress::State {
  py::object callback;
  std::mutex mutex;
  bool failed = false;
  std::unique_ptr<py::error_already_set> error;
};

Progress::Progress(py::object callback) : state_(std::make_shared<State>()) {
  if (callback.is_none()) return;
  state_->callback = std::move(callback);
  std::weak_ptr<State> weak = state_;
  reporter_.progress = [weak](const std::string& stage, int64_t done, int64_t total) {
    auto state = weak.lock();
    if (!state) return;
    std::lock_guard<std::mutex> lock(state->mutex);
    if (state->failed) return;
    py::gil_scoped_acquire gil;
    try {
      state->callback(stage, done, total);
    } catch (py::error_already_set& e) {
      state->failed = true;
      state->error = std::make_unique<py::error_already_set>(std::move(e));
    }
  };
}

Progress::~Progress() {
  // The callback and a kept exception are Python objects: released with the GIL (held by the
  // binding that owns this object when it returns).
  if (state_ && state_->error) state_->error.reset();
}

void Progress::rethrow() {
  if (state_->error) {
    py::error_already_set e = std::move(*state_->error);
    state_->error.reset();
    throw e;
  }
}

int apply_threads(int threads) {
  const int n = resolve_threads(threads);
#ifdef _OPENMP
  omp_set_num_threads(n);
#endif
  return n;
}

}  // namespace ishannot::python
