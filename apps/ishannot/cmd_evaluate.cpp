// `ishannot evaluate --data D (--features F.h5 | --fold-features PATTERN) --out DIR`: the paper's
// protocol on stored features (grouped k-fold by gene per stage range, top-10 terms, under-sampled
// l2-LR ensembles with C from inner CV; one store per outer fold for TL+MTL); writes metrics.tsv,
// summary.{md,tsv}, predictions.tsv, skipped.tsv and run.json, and prints the Table-2 summary.
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>

#include "commands.h"
#include "ishannot/dataset.h"
#include "ishannot/error.h"
#include "ishannot/evaluation.h"
#include "ishannot/feature_store.h"

namespace ishannot::cli {

namespace {
struct EvaluateOptions {
  std::string data, features, fold_features, out;
  std::vector<std::string> layers, stages, exclude;
  bool no_concat = false;
  std::string view = "lateral";
  std::string preprocess = "l2";
  std::string method = "TL";
  int top_k = 10, folds = 5, inner_folds = 3, models = 11, inner_models = 3;
  std::vector<double> c_grid = {1e-3, 1e-2, 1e-1, 1, 10, 100};
  double fallback_c = 1.0;
  int64_t slab_columns = 8192;
};

// PATTERN with {stage} and {fold} replaced ("ft/{stage}/f{fold}.h5" -> "ft/13-16/f0.h5").
std::string fold_store_path(std::string pattern, const std::string& stage, int fold) {
  for (const auto& [key, value] :
       {std::pair<std::string, std::string>{"{stage}", stage}, {"{fold}", std::to_string(fold)}})
    for (size_t at = pattern.find(key); at != std::string::npos; at = pattern.find(key, at))
      pattern.replace(at, key.size(), value);
  return pattern;
}

}  // namespace

void add_evaluate_command(CLI::App& app, GlobalOptions& options) {
  auto opt = std::make_shared<EvaluateOptions>();
  auto* cmd =
      app.add_subcommand("evaluate",
                         "grouped-CV evaluation of stored features: per stage range, top-k terms, "
                         "under-sampled l2 logistic-regression ensembles");
  cmd->add_option("--data", opt->data, "dataset: manifest CSV or BDGP-table folder")->required();
  auto* features = cmd->add_option("--features", opt->features,
                                   "feature store (HDF5) written by extract/baseline");
  auto* fold_features = cmd->add_option(
      "--fold-features", opt->fold_features,
      "one store per outer fold (TL+MTL): a path pattern with {fold} (0-based) and optionally "
      "{stage}, e.g. ft/{stage}/f{fold}.h5");
  features->excludes(fold_features);  // CLI11 makes it mutual
  cmd->add_option("--out", opt->out, "output folder")->required();
  cmd->add_option("--layers", opt->layers, "layers to evaluate (default: all in the store)")
      ->delimiter(',');
  cmd->add_flag("--no-concat", opt->no_concat, "do not also evaluate the layers' concatenation");
  cmd->add_option("--stages", opt->stages, "stage ranges (default: all present except 1-3)")
      ->delimiter(',');
  cmd->add_option("--view", opt->view, "lateral | dorsal | ventral | all")
      ->check(CLI::IsMember({"lateral", "dorsal", "ventral", "all"}))
      ->capture_default_str();
  cmd->add_option("--top-k", opt->top_k, "terms per stage range")->capture_default_str();
  cmd->add_option("--exclude", opt->exclude, "a term never selected (repeatable)");
  cmd->add_option("--folds", opt->folds, "outer grouped folds (by gene)")->capture_default_str();
  cmd->add_option("--inner-folds", opt->inner_folds, "inner grouped folds choosing C")
      ->capture_default_str();
  cmd->add_option("--c-grid", opt->c_grid, "C values tried by inner CV (one value: fixed C)")
      ->delimiter(',');
  cmd->add_option("--fallback-c", opt->fallback_c, "C when inner CV is impossible")
      ->capture_default_str();
  cmd->add_option("--models", opt->models, "ensemble size M (odd)")->capture_default_str();
  cmd->add_option("--inner-models", opt->inner_models, "ensemble size inside inner CV (odd)")
      ->capture_default_str();
  cmd->add_option("--preprocess", opt->preprocess, "none | l2 | standardise")
      ->check(CLI::IsMember({"none", "l2", "standardise", "standardize"}))
      ->capture_default_str();
  cmd->add_option("--method", opt->method, "method label in the outputs (TL, TL+MTL, SC...)")
      ->capture_default_str();
  cmd->add_option("--slab-columns", opt->slab_columns,
                  "feature columns per Gram pass step (memory: images x this x 4 bytes)")
      ->capture_default_str();
  cmd->callback([opt, &options, cmd] {
    apply_threads(options);
    const Reporter reporter = make_reporter(options);
    EvaluationParams params;
    params.method = opt->method;
    params.layers = opt->layers;
    params.concatenate = !opt->no_concat;
    for (const auto& s : opt->stages) params.stage_ranges.push_back(normalise_stage_range(s));
    params.terms.top_k = opt->top_k;
    params.terms.view = opt->view == "all" ? "" : opt->view;
    params.terms.exclude = opt->exclude;
    params.folds = opt->folds;
    params.inner_folds = opt->inner_folds;
    params.c_grid = opt->c_grid;
    params.inner_models = opt->inner_models;
    params.ensemble.models = opt->models;
    params.ensemble.C = opt->fallback_c;
    params.preprocessing = parse_preprocessing(opt->preprocess);
    params.gram.slab_columns = opt->slab_columns;
    params.seed = options.seed;
    if (auto problem = params.check(); !problem.empty())
      throw CLI::ValidationError("evaluate", problem);

    if (opt->features.empty() && opt->fold_features.empty())
      throw CLI::ValidationError("evaluate", "give --features or --fold-features");
    if (!opt->fold_features.empty() && opt->fold_features.find("{fold}") == std::string::npos)
      throw CLI::ValidationError(
          "evaluate", "--fold-features '" + opt->fold_features + "' has no {fold} placeholder");
    const bool is_csv = std::filesystem::is_regular_file(opt->data);
    const Dataset dataset = is_csv ? read_manifest(opt->data, false) : read_dataset(opt->data);
    // Stores by path, opened once (a pattern without {stage} shares them across stage ranges).
    std::map<std::string, std::unique_ptr<FeatureStoreReader>> opened;
    std::vector<std::string> order;
    auto open = [&](const std::string& path) -> const FeatureStoreReader& {
      auto& store = opened[path];
      if (!store) {
        store = std::make_unique<FeatureStoreReader>(path);
        order.push_back(path);
      }
      return *store;
    };
    const std::string pattern = opt->fold_features;
    const EvaluationResult result =
        pattern.empty() ? run_evaluation(dataset, open(opt->features), params, reporter)
                        : run_evaluation(
                              dataset,
                              [&](const std::string& stage, int fold) -> const FeatureStoreReader& {
                                return open(fold_store_path(pattern, stage, fold));
                              },
                              params, reporter);

    std::map<std::string, std::string> provenance = {
        {"dataset", dataset.source}, {"features", pattern.empty() ? order.at(0) : pattern}};
    std::string command = "ishannot evaluate";
    for (const auto& r : cmd->get_options()) {
      if (r->count() == 0 || r->get_name() == "--help") continue;
      command += " " + r->get_name();
      for (const auto& v : r->results()) command += " " + v;
    }
    provenance["command"] = command;
    for (size_t k = 0; k < order.size(); ++k) {
      // One store: features.<attribute>; per fold: features[<path>].<attribute> (gene lists left
      // out: they are long and in the stores).
      const std::string prefix = pattern.empty() ? "features." : "features[" + order[k] + "].";
      for (const auto& [key, value] : opened[order[k]]->attributes())
        if (key != "finetune_genes") provenance[prefix + key] = value;
    }
    write_evaluation_outputs(opt->out, result, params, provenance);

    std::cout << summary_table(result);
    std::map<std::string, int> reasons;
    for (const auto& s : result.skipped) {
      if (!options.quiet)
        std::cerr << "skipped: " << (s.layer.empty() ? "" : s.layer + " ") << s.stage_range
                  << (s.term.empty() ? "" : " '" + s.term + "'")
                  << (s.fold < 0 ? "" : " fold " + std::to_string(s.fold)) << ": " << s.reason
                  << "\n";
    }
    std::cerr << "wrote " << opt->out << "/{metrics.tsv,summary.md,summary.tsv,predictions.tsv,"
              << "roc.tsv,skipped.tsv,run.json} (" << result.skipped.size() << " skip notes, "
              << static_cast<int>(result.seconds.at("total")) << " s)\n";
  });
}

}  // namespace ishannot::cli
