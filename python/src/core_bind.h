#pragma once
// The parts of the _core extension (torch-free: ishannot_core only), one function each.
#include "common_bind.h"

namespace ishannot::python {

void bind_data(py::module_& m);   // datasets, outer folds (core_data.cpp)
void bind_store(py::module_& m);  // feature stores (core_store.cpp)
void bind_model(py::module_& m);  // model bundles, scoring, heat-map maps, train (core_model.cpp)
void bind_eval(py::module_& m);   // evaluate (core_eval.cpp)

}  // namespace ishannot::python
