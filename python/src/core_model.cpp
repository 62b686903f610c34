// Model bundles (annotate/model_bundle.h) for Python: the bundle's metadata, one stage range's
// models applied to feature rows (annotate/annotator.h, the code `annotate` runs), the evidence
// map of a term at an image's size (annotate/heatmap.h), and train.
#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core_bind.h"
#include "core_options.h"
#include "ishannot/annotate/annotator.h"
#include "ishannot/annotate/heatmap.h"
#include "ishannot/annotate/model_bundle.h"
#include "ishannot/annotate/recipe.h"
#include "ishannot/annotate/train.h"
#include "ishannot/common/error.h"

namespace ishannot::python {

namespace {

using FloatRows = py::array_t<float, py::array::c_style | py::array::forcecast>;

py::list layers_list(const std::vector<LayerSpec>& layers) {
  py::list out;
  for (const auto& l : layers) {
    py::dict d;
    d["name"] = l.name;
    d["dim"] = l.dim;
    d["shape"] = l.shape;
    d["source_shape"] = l.map_shape();
    d["pooling"] = l.pooling;
    out.append(d);
  }
  return out;
}

std::vector<LayerSpec> layers_of(const py::list& list) {
  std::vector<LayerSpec> out;
  for (const auto& item : list) {
    const auto d = item.cast<py::dict>();
    LayerSpec l;
    l.name = d["name"].cast<std::string>();
    l.dim = d["dim"].cast<int64_t>();
    l.shape = d["shape"].cast<std::string>();
    l.source_shape = d["source_shape"].cast<std::string>();
    l.pooling = d["pooling"].cast<std::string>();
    out.push_back(l);
  }
  return out;
}

const StageModel& stage_of(const ModelBundle& b, const std::string& stage_range) {
  const std::string stage = normalise_stage_range(stage_range);
  const StageModel* s = b.stage(stage);
  if (!s) {
    std::string have;
    for (const auto& name : b.stage_ranges()) have += (have.empty() ? "" : ", ") + name;
    throw file_error(b.path, "has no model for stage range " + stage + " (it has " + have + ")");
  }
  return *s;
}

py::dict terms_table(const ModelBundle& b, const std::string& stage_range) {
  const StageModel& s = stage_of(b, stage_range);
  std::vector<std::string> term;
  std::vector<double> C, auc, accuracy, sensitivity, specificity;
  std::vector<int64_t> positives, negatives, positive_genes, folds;
  for (const auto& t : s.terms) {
    term.push_back(t.term);
    C.push_back(t.C);
    positives.push_back(t.positives);
    negatives.push_back(t.negatives);
    positive_genes.push_back(t.positive_genes);
    auc.push_back(t.cv.auc);
    accuracy.push_back(t.cv.accuracy);
    sensitivity.push_back(t.cv.sensitivity);
    specificity.push_back(t.cv.specificity);
    folds.push_back(t.cv.folds);
  }
  py::dict out;
  out["term"] = term;
  out["C"] = C;
  out["positives"] = positives;
  out["negatives"] = negatives;
  out["positive_genes"] = positive_genes;
  out["cv_auc"] = auc;
  out["cv_accuracy"] = accuracy;
  out["cv_sensitivity"] = sensitivity;
  out["cv_specificity"] = specificity;
  out["cv_folds"] = folds;
  return out;
}

// One stage range's models, weights loaded: what annotate scores rows with.
class StageScorer {
 public:
  StageScorer(const ModelBundle& bundle, const std::string& stage_range)
      : bundle_(bundle), annotator_(bundle, stage_of(bundle, stage_range)) {
    std::string reason;
    grids_ = recipe_grids(bundle.recipe, &reason);
    heatmap_note_ = reason;
  }
  int64_t dim() const { return annotator_.dim(); }
  std::vector<std::string> terms() const {
    std::vector<std::string> out;
    for (const auto& t : annotator_.stage().terms) out.push_back(t.term);
    return out;
  }

  py::dict score(const FloatRows& features) const {
    std::vector<float> rows = checked_rows(features);
    const int64_t n = features.shape(0);
    BatchScores s;
    {
      py::gil_scoped_release release;
      annotator_.preprocess(rows.data(), n);
      s = annotator_.score(rows.data(), n);
    }
    py::dict out;
    out["score"] = to_numpy(std::move(s.score), n, s.terms);
    out["votes"] = to_numpy(std::move(s.votes), n, s.terms);
    out["label"] = to_numpy(std::move(s.label), n, s.terms);
    out["decision"] = to_numpy(std::move(s.decision), n, s.terms);
    out["members"] = bundle_.models;
    return out;
  }

  // The evidence of `term` per pixel of a width x height image (heatmap.h evidence_density).
  py::array_t<double> heatmap(const FloatRows& feature_row, const std::string& term, int width,
                              int height) const {
    if (grids_.empty()) throw file_error(bundle_.path, "no heat maps: " + heatmap_note_);
    if (width < 1 || height < 1) throw Error("heatmap: the image has no pixel");
    const auto names = terms();
    const auto it = std::find(names.begin(), names.end(), term);
    if (it == names.end())
      throw file_error(bundle_.path, "has no term '" + term + "' in stage range " +
                                         annotator_.stage().stage_range);
    std::vector<float> row = checked_rows(feature_row);
    if (feature_row.shape(0) != 1) throw Error("heatmap: give the features of one image");
    cv::Mat density;
    {
      py::gil_scoped_release release;
      annotator_.preprocess(row.data(), 1);
      density = evidence_density(
          annotator_.contributions(row.data(), static_cast<int>(it - names.begin()), grids_), width,
          height);
    }
    std::vector<double> values(density.begin<double>(), density.end<double>());
    return to_numpy(std::move(values), height, width);
  }

 private:
  std::vector<float> checked_rows(const FloatRows& features) const {
    if (features.ndim() != 2)
      throw Error("features: a 2-D array (images x values) is needed, got " +
                  std::to_string(features.ndim()) + "-D");
    if (features.shape(1) != dim())
      throw file_error(bundle_.path, "features have " + std::to_string(features.shape(1)) +
                                         " values per image, the models of " +
                                         annotator_.stage().stage_range + " need " +
                                         std::to_string(dim()) + " (the recipe's layers)");
    const float* p = features.data();
    std::vector<float> rows(p, p + features.size());
    for (size_t i = 0; i < rows.size(); ++i)
      if (!std::isfinite(rows[i]))
        throw Error("features: NaN/Inf in row " + std::to_string(i / static_cast<size_t>(dim())));
    return rows;
  }

  const ModelBundle& bundle_;
  StageAnnotator annotator_;
  std::vector<LayerGrid> grids_;
  std::string heatmap_note_;
};

}  // namespace

void bind_model(py::module_& m) {
  py::class_<ModelBundle, std::shared_ptr<ModelBundle>>(m, "ModelBundle")
      .def(py::init([](const std::string& path) {
             py::gil_scoped_release release;
             return std::make_shared<ModelBundle>(read_model_bundle(path));
           }),
           py::arg("path"))
      .def_readonly("path", &ModelBundle::path)
      .def_readonly("attributes", &ModelBundle::attributes)
      .def_readonly("models", &ModelBundle::models)
      .def_readonly("vote_threshold", &ModelBundle::vote_threshold)
      .def("stage_ranges", &ModelBundle::stage_ranges)
      .def("recipe_attributes", [](const ModelBundle& b) { return b.recipe.attributes; })
      .def("recipe_layers", [](const ModelBundle& b) { return layers_list(b.recipe.layers); })
      .def("terms", &terms_table)
      .def("stage_info",
           [](const ModelBundle& b, const std::string& stage) {
             const StageModel& s = stage_of(b, stage);
             py::dict d;
             d["images"] = s.images;
             d["genes"] = s.genes;
             d["notes"] = s.notes;
             return d;
           })
      .def("recipe_difference",
           [](const ModelBundle& b, const std::map<std::string, std::string>& attributes,
              const py::list& layers) {
             return recipe_difference(b.recipe, attributes, layers_of(layers));
           })
      .def("heatmap_note", [](const ModelBundle& b) {
        std::string reason;
        recipe_grids(b.recipe, &reason);
        return reason;
      });
  // keep_alive: a scorer refers to its bundle.
  py::class_<StageScorer>(m, "StageScorer")
      .def(py::init([](const ModelBundle& b, const std::string& stage) {
             return std::make_unique<StageScorer>(b, stage);
           }),
           py::keep_alive<1, 2>())
      .def_property_readonly("dim", &StageScorer::dim)
      .def("terms", &StageScorer::terms)
      .def("score", &StageScorer::score)
      .def("heatmap", &StageScorer::heatmap);
  m.def("train", [](const Dataset& dataset, const std::string& features, const std::string& out,
                    const py::dict& options, int threads, py::object progress) {
    const TrainParams params = train_params(options);
    apply_threads(threads);
    Progress bridge(std::move(progress));
    TrainSummary summary;
    {
      py::gil_scoped_release release;
      const FeatureStoreReader store(features);
      summary = train_model(dataset, store, params, out, bridge.reporter());
    }
    bridge.rethrow();
    py::dict d;
    d["stage_ranges"] = summary.stage_ranges;
    d["terms"] = summary.terms;
    d["notes"] = summary.notes;
    d["seconds"] = summary.seconds;
    return d;
  });
}

}  // namespace ishannot::python
