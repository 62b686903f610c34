// train_model (train.h): checks, the images with features, the bundle's header (recipe,
// provenance, fingerprint for resume), then one stage range after another.
#include <algorithm>
#include <chrono>
#include <set>
#include <sstream>
#include <unordered_map>

#include "annotate/train_plan.h"
#include "ishannot/annotate/model_bundle.h"
#include "ishannot/annotate/train.h"
#include "ishannot/common/error.h"
#include "ishannot/common/format.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/eval/evaluation.h"

namespace ishannot {

std::string TrainParams::check() const {
  if (folds != 0 && folds < 2) return "folds must be 0 (no cross-validation) or >= 2";
  if (fold >= 0 && (folds < 2 || fold >= folds)) return "fold F must be in [0, folds)";
  if (fold >= 0 && !train_genes.empty()) return "give a fold or a gene list, not both";
  if (!explicit_terms.empty() && min_positive_genes > 0)
    return "give explicit terms or a minimum of positive genes, not both";
  if (min_positive_genes < 0) return "the minimum of positive genes must be >= 0";
  if (auto e = terms.check(); !e.empty()) return e;
  if (auto e = fit.check(); !e.empty()) return e;
  if (unit == EvaluationUnit::kBag && bag_pool == BagPool::kMeanMax)
    return "a bag bundle pools by mean or max (meanmax is evaluate's only)";
  if (unit == EvaluationUnit::kBag && bag_pool == BagPool::kAttention) {
    if (preprocessing == Preprocessing::kStandardise)
      return "attention bag pooling needs preprocessing l2 or none, not standardise";
    if (auto e = pca.check(); !e.empty()) return e;
    if (auto e = attention.check(); !e.empty()) return e;
  }
  if (unit == EvaluationUnit::kBag && bag_pool == BagPool::kMax &&
      preprocessing == Preprocessing::kStandardise)
    return "max bag pooling needs preprocessing l2 or none, not standardise";
  return gram.check();
}

namespace {

std::vector<std::string> stages_to_train(const Dataset& dataset, const TrainParams& params) {
  std::vector<std::string> stages = params.stage_ranges;
  if (stages.empty())
    for (const auto& s : dataset.stage_ranges())
      if (s != "1-3") stages.push_back(s);
  if (stages.empty()) throw Error("train: dataset " + dataset.source + " has no stage range");
  return stages;
}

std::string term_selection(const TrainParams& params) {
  std::string view = params.terms.view.empty() ? "all views" : params.terms.view + " images";
  std::string what =
      !params.explicit_terms.empty() ? "terms " + join(params.explicit_terms, "; ")
      : params.min_positive_genes > 0
          ? "every term with >= " + std::to_string(params.min_positive_genes) + " positive genes"
          : "top " + std::to_string(params.terms.top_k) + " terms";
  if (!params.terms.exclude.empty()) what += ", excluding " + join(params.terms.exclude, "; ");
  return what + " (" + view + ")";
}

std::string training_scope(const TrainParams& params) {
  if (params.fold >= 0)
    return "training genes of outer fold " + std::to_string(params.fold) + "/" +
           std::to_string(params.folds) + " (seed " + std::to_string(params.seed) + ")";
  if (!params.train_genes.empty())
    return std::to_string(params.train_genes.size()) + " listed genes";
  return "all genes";
}

// The bundle's header: recipe from the store, provenance, configuration and its fingerprint.
ModelBundle bundle_header(const FeatureStoreReader& store, const std::vector<std::string>& layers,
                          const Dataset& dataset, const TrainParams& params) {
  ModelBundle b;
  b.recipe.attributes = store.attributes();
  for (const auto& l : layers) b.recipe.layers.push_back({l, store.dim(l), ""});
  for (const auto& spec : store.layers())
    for (auto& l : b.recipe.layers)
      if (l.name == spec.name) l.shape = spec.map_shape();
  b.preprocessing = params.preprocessing;
  const bool attention =
      params.unit == EvaluationUnit::kBag && params.bag_pool == BagPool::kAttention;
  b.models = attention ? 1 : params.fit.ensemble.models;  // one MIL score per term
  b.vote_threshold = (b.models + 1) / 2;
  b.weights_dtype = params.weights_dtype;
  auto& a = b.attributes;
  a = params.provenance.entries();
  std::ostringstream grid;
  for (double c : params.fit.c_grid) grid << (grid.tellp() > 0 ? "," : "") << format_exact(c);
  a["method"] = params.method;
  a["seed"] = std::to_string(params.seed);
  a["features"] = store.path();
  a["training_scope"] = training_scope(params);
  a["term_selection"] = term_selection(params);
  a["c_grid"] = grid.str();
  a["inner_folds"] = std::to_string(params.fit.inner_folds);
  a["inner_models"] = std::to_string(params.fit.inner_models);
  a["calibration"] = calibration_method_name(params.calibration);
  a["cv_folds"] =
      std::to_string(params.fold >= 0 || !params.train_genes.empty() ? 0 : params.folds);
  if (!a.count("training_data")) a["training_data"] = dataset.source;  // no such input given
  if (params.unit == EvaluationUnit::kBag) {                           // absent: an image bundle
    a["unit"] = "bag";
    a["bag_pool"] = bag_pool_name(params.bag_pool);
  }
  if (attention) {
    a["mil_components"] = std::to_string(params.pca.components);
    a["mil_epochs"] = std::to_string(params.attention.max_epochs);
    a["mil_loss"] = mil_weighting_name(params.attention.weighting);
  }
  std::ostringstream fp;  // everything that changes the result
  fp << store.path() << '|' << store.rows() << '|' << join(layers, ",") << '|' << dataset.source
     << '|' << dataset.images.size() << '|' << join(params.stage_ranges, ",") << '|'
     << a["term_selection"] << '|' << params.folds << '|' << params.fold << '|'
     << join(params.train_genes, ",") << '|' << a["c_grid"] << '|' << params.fit.inner_folds << '|'
     << params.fit.inner_models << '|' << b.models << '|'
     << format_exact(params.fit.ensemble.logistic.C) << '|'
     << preprocessing_name(params.preprocessing) << '|' << params.seed << '|'
     << calibration_method_name(params.calibration) << '|'
     << (params.weights_dtype == FeatureDtype::kFloat16) << '|' << params.method;
  if (params.unit == EvaluationUnit::kBag) fp << "|bag:" << bag_pool_name(params.bag_pool);
  if (attention)
    fp << "|mil:" << a["mil_components"] << ',' << a["mil_epochs"] << ',' << a["mil_loss"];
  for (const auto& [key, value] : b.recipe.attributes) fp << '|' << key << '=' << value;
  a["train_fingerprint"] = sha256_bytes(fp.str());
  return b;
}

// Before anything is written: --terms names terms of the dataset, and its images have features
// in the store (else the ids expected and found are named, as evaluate does).
void check_inputs_match(const Dataset& dataset,
                        const std::unordered_map<std::string, int64_t>& row_of,
                        const FeatureStoreReader& store, const TrainParams& params) {
  std::set<std::string> terms;
  for (const auto& image : dataset.images) terms.insert(image.terms.begin(), image.terms.end());
  for (const auto& term : params.explicit_terms)
    if (!terms.count(term)) {
      std::vector<std::string> some(terms.begin(), terms.end());
      if (some.size() > 5) {
        some.resize(5);
        some.push_back("...");
      }
      throw file_error(dataset.source,
                       "--terms: '" + term + "' is not a term of this dataset" +
                           (some.empty() ? "" : " (its terms: " + join(some, ", ") + ")"));
    }
  if (std::none_of(dataset.images.begin(), dataset.images.end(),
                   [&](const ImageRecord& image) { return row_of.count(image.id) > 0; }))
    throw no_matching_ids(dataset, store);
}

}  // namespace

TrainSummary train_model(const Dataset& dataset, const FeatureStoreReader& store,
                         const TrainParams& params, const std::string& out_path,
                         const Reporter& reporter) {
  if (auto problem = params.check(); !problem.empty()) throw Error("train: " + problem);
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::string> layers = params.layers;
  if (layers.empty())
    for (const auto& l : store.layers()) layers.push_back(l.name);
  if (layers.empty()) throw file_error(store.path(), "the feature store has no layer");
  for (const auto& l : layers) store.dim(l);  // Error naming the file and its layers
  std::unordered_map<std::string, int64_t> row_of;
  for (int64_t r = 0; r < store.rows(); ++r) row_of.emplace(store.ids()[static_cast<size_t>(r)], r);

  check_inputs_match(dataset, row_of, store, params);
  ModelBundle header = bundle_header(store, layers, dataset, params);
  ModelBundleWriter writer(out_path, header, params.resume);
  TrainSummary summary;
  const auto& all_stages = stage_range_names();
  for (const auto& stage_name : stages_to_train(dataset, params)) {
    const auto done =
        std::find_if(writer.completed().begin(), writer.completed().end(),
                     [&](const StageModel& s) { return s.stage_range == stage_name; });
    if (done != writer.completed().end()) {
      reporter.info("train " + stage_name + ": resumed from " + out_path + ".partial");
      summary.stage_ranges.push_back(stage_name);
      summary.terms += static_cast<int>(done->terms.size());
      ++summary.resumed_stages;
      continue;
    }
    Dataset matched;
    matched.source = dataset.source;
    int missing = 0;
    for (const auto& image : dataset.images)
      if (image.stage_range == stage_name) {
        if (row_of.count(image.id))
          matched.images.push_back(image);
        else
          ++missing;
      }
    if (missing > 0)
      summary.notes.push_back(stage_name + ": " + std::to_string(missing) +
                              " images without features in " + store.path() + " (not used)");
    if (matched.images.empty()) {
      summary.notes.push_back(stage_name + ": no image with features: stage range not trained");
      continue;
    }
    const auto index = static_cast<uint64_t>(
        std::find(all_stages.begin(), all_stages.end(), stage_name) - all_stages.begin());
    const detail::StagePlan plan = detail::plan_stage(matched, stage_name, index, row_of, params);
    StageModel model = detail::train_stage(store, layers, plan, params, reporter);
    for (const auto& note : model.notes) summary.notes.push_back(stage_name + ": " + note);
    if (model.terms.empty()) {
      summary.notes.push_back(stage_name + ": no term could be trained");
      continue;
    }
    writer.add_stage(model);
    summary.stage_ranges.push_back(stage_name);
    summary.terms += static_cast<int>(model.terms.size());
    reporter.info("train " + stage_name + ": " + std::to_string(model.terms.size()) + " terms, " +
                  std::to_string(model.images) + " images of " +
                  std::to_string(model.genes.size()) + " genes");
  }
  if (summary.stage_ranges.empty())
    throw Error(
        "train: nothing to train (no stage range with images, features and a term with "
        "both positive and negative training images)");
  writer.close();
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace ishannot
