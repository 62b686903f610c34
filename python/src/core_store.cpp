// Feature stores (features/feature_store.h) for Python: read by row ranges or row lists, so a
// store larger than memory is read in slices.
#include <pybind11/stl.h>

#include "core_bind.h"
#include "ishannot/common/error.h"
#include "ishannot/features/feature_store.h"

namespace ishannot::python {

namespace {

py::array_t<float> read_range(const FeatureStoreReader& s, const std::string& layer, int64_t begin,
                              int64_t end) {
  const int64_t d = s.dim(layer);
  if (begin < 0 || end < begin || end > s.rows())
    throw file_error(s.path(), "rows [" + std::to_string(begin) + ", " + std::to_string(end) +
                                   ") out of range (the store has " + std::to_string(s.rows()) +
                                   " rows)");
  std::vector<float> out(static_cast<size_t>((end - begin) * d));
  {
    py::gil_scoped_release release;
    if (end > begin) s.read_rows(layer, begin, end - begin, out.data());
  }
  return to_numpy(std::move(out), end - begin, d);
}

py::array_t<float> read_list(const FeatureStoreReader& s, const std::string& layer,
                             std::vector<int64_t> rows) {
  const int64_t d = s.dim(layer);
  for (int64_t& r : rows) {
    if (r < -s.rows() || r >= s.rows())
      throw file_error(s.path(), "row " + std::to_string(r) + " out of range (the store has " +
                                     std::to_string(s.rows()) + " rows)");
    if (r < 0) r += s.rows();
  }
  std::vector<float> out(rows.size() * static_cast<size_t>(d));
  {
    py::gil_scoped_release release;
    if (!rows.empty()) s.read_rows(layer, rows, out.data());
  }
  return to_numpy(std::move(out), static_cast<int64_t>(rows.size()), d);
}

py::dict layer_dict(const LayerSpec& l, FeatureDtype dtype) {
  py::dict out;
  out["name"] = l.name;
  out["dim"] = l.dim;
  out["shape"] = l.shape;
  out["source_shape"] = l.map_shape();
  out["pooling"] = l.pooling;
  out["dtype"] = dtype == FeatureDtype::kFloat16 ? "float16" : "float32";
  return out;
}

}  // namespace

void bind_store(py::module_& m) {
  py::class_<FeatureStoreReader>(m, "FeatureStoreReader")
      .def(py::init<const std::string&>(), py::call_guard<py::gil_scoped_release>())
      .def_property_readonly("path", &FeatureStoreReader::path)
      .def_property_readonly("ids", &FeatureStoreReader::ids)
      .def_property_readonly("rows", &FeatureStoreReader::rows)
      .def("attributes", &FeatureStoreReader::attributes)
      .def("layers",
           [](const FeatureStoreReader& s) {
             py::list out;
             for (const auto& l : s.layers()) out.append(layer_dict(l, s.dtype(l.name)));
             return out;
           })
      .def("dim", &FeatureStoreReader::dim)
      .def("read_range", &read_range)
      .def("read_list", &read_list);
  m.def("is_feature_store", &is_feature_store);
}

}  // namespace ishannot::python
