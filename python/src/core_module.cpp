// ishannot._core: the torch-free extension. `import ishannot` loads only this one (no libtorch).
#include "core_bind.h"
#include "ishannot/version.h"

PYBIND11_MODULE(_core, m) {
  namespace python = ishannot::python;
  m.doc() =
      "ishannot's torch-free C++ core (datasets, stores, models, evaluation); use `ishannot`.";
  m.attr("__version__") = ISHANNOT_VERSION;
  python::register_error(m);
  python::bind_data(m);
  python::bind_store(m);
  python::bind_model(m);
  python::bind_eval(m);
}
