#include "core_options.h"

#include <algorithm>

#include "ishannot/common/error.h"
#include "ishannot/common/provenance.h"
#include "ishannot/data/dataset.h"
#include "ishannot/data/folds.h"
#include "ishannot/features/feature_store.h"
#include "ishannot/version.h"

namespace ishannot::python {

namespace {

std::vector<std::string> stage_list(const py::dict& o) {
  std::vector<std::string> out;
  for (const auto& s : option<std::vector<std::string>>(o, "stages", {}))
    out.push_back(normalise_stage_range(s));
  return out;
}

TermSelectionParams term_params(const py::dict& o) {
  TermSelectionParams p;
  p.top_k = option(o, "top_k", p.top_k);
  const std::string view = option<std::string>(o, "view", p.view);
  p.view = view == "all" ? "" : view;
  p.exclude = option(o, "exclude", p.exclude);
  return p;
}

const std::vector<std::string> kClassifierKeys = {
    "c_grid",       "inner_folds", "inner_models", "models",    "fallback_c", "preprocess",
    "slab_columns", "seed",        "stages",       "top_k",     "view",       "exclude",
    "layers",       "method",      "folds",        "provenance"};

// The "provenance" option (a dict of strings): created_by and tool_version name the caller,
// training_data the input; any other key is kept as is.
Provenance provenance(const py::dict& o) {
  Provenance p;
  p.command_line = "python: ishannot";
  for (const auto& [key, value] : option<std::map<std::string, std::string>>(o, "provenance", {})) {
    if (key == "created_by")
      p.command_line = value;
    else if (key == "tool_version")
      p.tool_version = value;
    else if (key == "training_data")
      p.add_input(key, value);
    else
      p.extra[key] = value;
  }
  if (auto problem = p.check(); !problem.empty()) throw Error("provenance: " + problem);
  return p;
}

}  // namespace

void check_option_names(const py::dict& options, const std::vector<std::string>& known,
                        const std::string& function) {
  for (const auto& item : options) {
    const auto key = item.first.cast<std::string>();
    if (std::find(known.begin(), known.end(), key) == known.end() &&
        std::find(kClassifierKeys.begin(), kClassifierKeys.end(), key) == kClassifierKeys.end())
      throw Error(function + ": unknown option '" + key + "'");
  }
}

// The classifier's keywords (c_grid, inner_folds, inner_models, models, fallback_c), one map for
// evaluate and train.
TermFitParams fit_params(const py::dict& o) {
  TermFitParams p;
  p.c_grid = option(o, "c_grid", p.c_grid);
  p.inner_folds = option(o, "inner_folds", p.inner_folds);
  p.inner_models = option(o, "inner_models", p.inner_models);
  p.ensemble.models = option(o, "models", p.ensemble.models);
  p.ensemble.logistic.C = option(o, "fallback_c", p.ensemble.logistic.C);
  return p;
}

EvaluationParams evaluation_params(const py::dict& o) {
  check_option_names(o, {"concat", "level", "group_rule"}, "evaluate");
  EvaluationParams p;
  p.method = option(o, "method", p.method);
  p.layers = option(o, "layers", p.layers);
  p.concatenate = option(o, "concat", p.concatenate);
  p.stage_ranges = stage_list(o);
  p.terms = term_params(o);
  p.folds = option(o, "folds", p.folds);
  p.fit = fit_params(o);
  p.preprocessing = parse_preprocessing(option<std::string>(o, "preprocess", "l2"));
  p.gram.slab_columns = option(o, "slab_columns", p.gram.slab_columns);
  p.seed = option(o, "seed", p.seed);
  p.level = parse_evaluation_level(option<std::string>(o, "level", "image"));
  p.group_rule = parse_group_rule(option<std::string>(o, "group_rule", "mean"));
  if (auto problem = p.check(); !problem.empty()) throw Error("evaluate: " + problem);
  return p;
}

TrainParams train_params(const py::dict& o) {
  check_option_names(o, {"terms", "min_genes", "fold", "train_genes", "weights_dtype", "resume"},
                     "train");
  TrainParams p;
  p.method = option(o, "method", p.method);
  p.layers = option(o, "layers", p.layers);
  p.stage_ranges = stage_list(o);
  p.terms = term_params(o);
  p.explicit_terms = option(o, "terms", p.explicit_terms);
  p.min_positive_genes = option(o, "min_genes", p.min_positive_genes);
  p.folds = option(o, "folds", p.folds);
  if (o.contains("fold") && !o["fold"].is_none()) {
    const FoldSpec spec = parse_fold_spec(o["fold"].cast<std::string>());
    p.fold = spec.fold;
    p.folds = spec.folds;
  }
  p.train_genes = option(o, "train_genes", p.train_genes);
  p.fit = fit_params(o);
  p.preprocessing = parse_preprocessing(option<std::string>(o, "preprocess", "l2"));
  p.gram.slab_columns = option(o, "slab_columns", p.gram.slab_columns);
  const std::string dtype = option<std::string>(o, "weights_dtype", "float32");
  if (dtype != "float32" && dtype != "float16")
    throw Error("train: weights_dtype '" + dtype + "' is not float32 or float16");
  p.weights_dtype = dtype == "float16" ? FeatureDtype::kFloat16 : FeatureDtype::kFloat32;
  p.seed = option(o, "seed", p.seed);
  p.resume = option(o, "resume", p.resume);
  p.provenance = provenance(o);
  if (auto problem = p.check(); !problem.empty()) throw Error("train: " + problem);
  return p;
}

}  // namespace ishannot::python
