// Datasets (data/dataset.h) and the outer folds (data/folds.h) for Python.
#include <pybind11/stl.h>

#include <filesystem>
#include <set>

#include "core_bind.h"
#include "ishannot/common/error.h"
#include "ishannot/data/dataset.h"
#include "ishannot/data/folds.h"

namespace ishannot::python {

namespace {

// The rows as columns (lists), ready for pandas.DataFrame(...).
py::dict dataset_columns(const Dataset& d) {
  py::list id, path, gene, stage, order, view, terms;
  for (const ImageRecord& r : d.images) {
    id.append(r.id);
    path.append(r.path);
    gene.append(r.gene);
    stage.append(r.stage_range);
    order.append(stage_order(r.stage_range));
    view.append(r.view);
    terms.append(py::cast(r.terms));
  }
  py::dict out;
  out["image"] = id;
  out["path"] = path;
  out["gene"] = gene;
  out["stage_range"] = stage;
  out["stage_order"] = order;
  out["view"] = view;
  out["terms"] = terms;
  return out;
}

Dataset subset(const Dataset& d, const std::vector<int64_t>& rows) {
  Dataset out;
  out.source = d.source;
  out.skipped = d.skipped;
  const auto n = static_cast<int64_t>(d.images.size());
  for (int64_t r : rows) {
    if (r < -n || r >= n)
      throw Error(d.source + ": row " + std::to_string(r) + " out of range (the dataset has " +
                  std::to_string(n) + " images)");
    out.images.push_back(d.images[static_cast<size_t>(r < 0 ? r + n : r)]);
  }
  return out;
}

// A dataset from columns (a DataFrame's): the same checks as a manifest's rows.
Dataset make_dataset(const std::string& source, const std::vector<std::string>& ids,
                     const std::vector<std::string>& paths, const std::vector<std::string>& genes,
                     const std::vector<std::string>& stages, const std::vector<std::string>& views,
                     const std::vector<std::vector<std::string>>& terms) {
  const size_t n = ids.size();
  if (paths.size() != n || genes.size() != n || stages.size() != n || views.size() != n ||
      terms.size() != n)
    throw Error(source + ": columns of different lengths");
  Dataset d;
  d.source = source;
  std::set<std::string> seen;
  for (size_t i = 0; i < n; ++i) {
    const std::string row = source + ": row " + std::to_string(i) + " (" + ids[i] + ")";
    if (ids[i].empty()) throw Error(source + ": row " + std::to_string(i) + " has no image id");
    if (!seen.insert(ids[i]).second) throw Error(row + ": duplicate image id");
    ImageRecord r;
    r.id = ids[i];
    r.path = paths[i];
    r.gene = genes[i];
    try {
      r.stage_range = stages[i].empty() ? "" : normalise_stage_range(stages[i]);
    } catch (const Error& e) {
      throw Error(row + ": " + e.what());
    }
    if (!views[i].empty() && views[i] != "lateral" && views[i] != "dorsal" && views[i] != "ventral")
      throw Error(row + ": view '" + views[i] + "' is not lateral, dorsal or ventral");
    r.view = views[i];
    std::set<std::string> unique(terms[i].begin(), terms[i].end());
    unique.erase("");
    r.terms.assign(unique.begin(), unique.end());
    d.images.push_back(std::move(r));
  }
  return d;
}

py::dict folds_dict(const Dataset& dataset, const OuterFolds& f) {
  py::dict out;
  const auto rows = static_cast<int64_t>(f.problem.image_indices.size());
  const auto terms = static_cast<int64_t>(f.problem.terms.size());
  std::vector<std::string> ids;
  for (int i : f.problem.image_indices) ids.push_back(dataset.images[static_cast<size_t>(i)].id);
  out["stage_range"] = f.problem.stage_range;
  out["terms"] = f.problem.terms;
  out["images"] = ids;
  out["rows"] = to_numpy(std::vector<int>(f.problem.image_indices), rows);
  out["genes"] = f.genes;
  out["fold"] = to_numpy(std::vector<int>(f.fold), rows);
  out["labels"] = to_numpy(std::vector<uint8_t>(f.problem.labels), rows, terms);
  out["folds"] = f.folds;
  return out;
}

}  // namespace

void bind_data(py::module_& m) {
  py::class_<Dataset>(m, "Dataset")
      .def_readonly("source", &Dataset::source)
      .def("__len__", [](const Dataset& d) { return d.images.size(); })
      .def("stage_ranges", &Dataset::stage_ranges)
      .def("skipped",
           [](const Dataset& d) {
             std::vector<std::pair<std::string, int>> out;
             for (const auto& s : d.skipped) out.emplace_back(s.reason, s.count);
             return out;
           })
      .def("columns", &dataset_columns)
      .def("subset", &subset)
      .def("paths", [](const Dataset& d) {
        std::vector<std::string> out;
        for (const auto& r : d.images) out.push_back(r.path);
        return out;
      });
  m.def(
      "read_dataset",
      [](const std::string& path, bool check_files) {
        py::gil_scoped_release release;
        if (!check_files && std::filesystem::is_regular_file(path))
          return read_manifest(path, false);
        return read_dataset(path);
      },
      py::arg("path"), py::arg("check_files") = true);
  m.def("read_image_folder", &read_image_folder, py::call_guard<py::gil_scoped_release>());
  m.def("make_dataset", &make_dataset);
  m.def("normalise_stage_range", &normalise_stage_range);
  m.def("stage_range_names", &stage_range_names);
  m.def("outer_folds",
        [](const Dataset& dataset, const std::string& stage_range, int folds, uint64_t seed,
           int top_k, const std::string& view, const std::vector<std::string>& exclude) {
          OuterFoldParams p;
          p.folds = folds;
          p.seed = seed;
          p.terms.top_k = top_k;
          p.terms.view = view == "all" ? "" : view;
          p.terms.exclude = exclude;
          if (auto problem = p.check(); !problem.empty()) throw Error("outer_folds: " + problem);
          OuterFolds f;
          {
            py::gil_scoped_release release;
            f = outer_folds(dataset, normalise_stage_range(stage_range), p);
          }
          return folds_dict(dataset, f);
        });
}

}  // namespace ishannot::python
