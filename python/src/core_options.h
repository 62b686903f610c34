#pragma once
// Parameters of train and evaluate from the keyword arguments the Python layer collects (a dict:
// absent keys keep the C++ defaults), with the CLI's names and parsing.
#include <pybind11/stl.h>

#include <string>

#include "common_bind.h"
#include "ishannot/annotate/train.h"
#include "ishannot/eval/evaluation.h"

namespace ishannot::python {

/// Value of `key` in `options`, or `fallback` when absent or None.
template <typename T>
T option(const py::dict& options, const char* key, const T& fallback) {
  if (!options.contains(key) || options[key].is_none()) return fallback;
  return options[key].cast<T>();
}

/// Refuses keys this function does not know (a misspelt keyword is an Error, not ignored).
void check_option_names(const py::dict& options, const std::vector<std::string>& known,
                        const std::string& function);

EvaluationParams evaluation_params(const py::dict& options);
TrainParams train_params(const py::dict& options);

}  // namespace ishannot::python
