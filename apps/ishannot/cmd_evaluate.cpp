// `ishannot evaluate --data D (--features F.h5 | --fold-features PATTERN) --out DIR`: the paper's
// protocol on stored features (grouped k-fold by gene per stage range, top-10 terms, under-sampled
// l2-LR ensembles with C from inner CV; one store per outer fold for TL+MTL); writes metrics.tsv,
// summary.{md,tsv}, predictions.tsv, skipped.tsv and run.json, and prints the Table-2 summary.
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>

#include "commands.h"
#include "ishannot/common/error.h"
#include "ishannot/common/format.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/data/dataset.h"
#include "ishannot/eval/evaluation.h"
#include "ishannot/features/feature_store.h"
#include "ishannot/features/store_attributes.h"
#include "ishannot/ontology/term_columns.h"
#include "ontology_cli.h"
#include "options.h"

namespace ishannot::cli {

namespace {
struct EvaluateOptions {
  std::string data, features, fold_features, out, ontology;
  std::vector<std::string> layers, stages;
  TermOptions terms;
  bool no_concat = false;
  std::string method = "TL";
  std::string level = "image", group_rule = "mean", protocol = "gene-grouped";
  int folds = 5;
  ClassifierOptions classifier;
  UnitOptions unit;
  int64_t slab_columns = 8192;
  CLI::Option* level_option = nullptr;
};

// PATTERN with {stage} and {fold} replaced ("ft/{stage}/f{fold}.h5" -> "ft/13-16/f0.h5").
std::string fold_store_path(std::string pattern, const std::string& stage, int fold) {
  for (const auto& [key, value] :
       {std::pair<std::string, std::string>{"{stage}", stage}, {"{fold}", std::to_string(fold)}})
    for (size_t at = pattern.find(key); at != std::string::npos; at = pattern.find(key, at))
      pattern.replace(at, key.size(), value);
  return pattern;
}

void add_evaluate_options(CLI::App* cmd, EvaluateOptions& o) {
  add_data_option(cmd, o.data);
  auto* features =
      cmd->add_option("--features", o.features, "feature store (HDF5) written by extract/baseline");
  auto* fold_features = cmd->add_option(
      "--fold-features", o.fold_features,
      "one store per outer fold (TL+MTL): a path pattern with {fold} (0-based) and optionally "
      "{stage}, e.g. ft/{stage}/f{fold}.h5");
  features->excludes(fold_features);  // CLI11 makes it mutual
  add_out_option(cmd, o.out, "output folder");
  add_ontology_option(cmd, o.ontology);
  cmd->add_option("--layers", o.layers, "layers to evaluate, comma-separated (default: all)")
      ->delimiter(',');
  cmd->add_flag("--no-concat", o.no_concat, "do not also evaluate the layers' concatenation");
  add_stages_option(cmd, o.stages, "the ones to evaluate (default: all present except 1-3)");
  add_term_options(cmd, o.terms);
  cmd->add_option("--folds", o.folds, "outer grouped folds (by gene)")->capture_default_str();
  add_classifier_options(cmd, o.classifier);
  cmd->add_option("--method", o.method, "method label in the outputs (TL, TL+MTL, SC...)")
      ->capture_default_str();
  add_unit_options(cmd, o.unit);
  o.level_option =
      cmd->add_option("--level", o.level,
                      "metrics per image, per gene x stage-range group (image scores aggregated by "
                      "--group-rule), or both: image | group | both (--unit bag: group, the "
                      "default there)")
          ->check(CLI::IsMember({"image", "group", "both"}))
          ->capture_default_str();
  cmd->add_option("--protocol", o.protocol,
                  "gene-grouped (folds split genes per stage range: the default) | "
                  "groups-shuffled (the literature's looser comparison protocol: stage ranges "
                  "pooled, gene x stage groups split at random; docs/EVALUATION.md)")
      ->check(CLI::IsMember({"gene-grouped", "groups-shuffled"}))
      ->capture_default_str();
  cmd->add_option("--group-rule", o.group_rule,
                  "how a group's image scores combine: mean | max | votes (docs/ANNOTATE.md)")
      ->check(CLI::IsMember({"mean", "max", "votes"}))
      ->capture_default_str();
  cmd->add_option("--slab-columns", o.slab_columns,
                  "feature columns per Gram pass step (memory: images x this x 4 bytes)")
      ->capture_default_str();
}

EvaluationParams evaluation_params(const EvaluateOptions& o, const GlobalOptions& options) {
  EvaluationParams params;
  params.method = o.method;
  params.layers = o.layers;
  params.concatenate = !o.no_concat;
  params.stage_ranges = normalised_stages(o.stages);
  params.terms = o.terms.params();
  params.folds = o.folds;
  o.classifier.apply(params.fit);
  params.preprocessing = parse_usage([&] { return parse_preprocessing(o.classifier.preprocess); });
  params.gram.slab_columns = o.slab_columns;
  params.seed = options.seed;
  params.level = parse_usage([&] { return parse_evaluation_level(o.level); });
  params.unit = parse_usage([&] { return parse_evaluation_unit(o.unit.unit); });
  params.bag_pool = parse_usage([&] { return parse_bag_pool(o.unit.bag_pool); });
  o.unit.apply(params.pca, params.attention);
  if (params.unit == EvaluationUnit::kBag) {
    if (o.level_option->count() > 0 && params.level != EvaluationLevel::kGroup)
      throw UsageError("evaluate: --unit bag is evaluated per group: --level " + o.level +
                       " is not possible (use --level group, or leave it out)");
    params.level = EvaluationLevel::kGroup;
  }
  params.group_rule = parse_usage([&] { return parse_group_rule(o.group_rule); });
  params.protocol = parse_usage([&] { return parse_evaluation_protocol(o.protocol); });
  if (params.protocol == EvaluationProtocol::kGroupsShuffled && !o.fold_features.empty())
    throw UsageError(
        "evaluate: --protocol groups-shuffled pools the stage ranges and splits groups, not "
        "genes: it takes one --features store, not --fold-features");
  require_valid("evaluate", params.check());
  if (o.features.empty() && o.fold_features.empty())
    throw UsageError("evaluate: give --features or --fold-features");
  if (!o.fold_features.empty() && o.fold_features.find("{fold}") == std::string::npos)
    throw UsageError("evaluate: --fold-features '" + o.fold_features +
                     "' has no {fold} placeholder");
  return params;
}

// Stores by path, opened once (a pattern without {stage} shares them across stage ranges).
class OpenStores {
 public:
  const FeatureStoreReader& get(const std::string& path) {
    auto& store = opened_[path];
    if (!store) {
      store = std::make_unique<FeatureStoreReader>(path);
      order_.push_back(path);
    }
    return *store;
  }
  const std::vector<std::string>& order() const { return order_; }

 private:
  std::map<std::string, std::unique_ptr<FeatureStoreReader>> opened_;
  std::vector<std::string> order_;
};

// run.json: the command, the dataset and every store's provenance attributes.
Provenance run_provenance(const EvaluateOptions& o, const Dataset& dataset, OpenStores& stores,
                          const GlobalOptions& options) {
  const bool per_fold = !o.fold_features.empty();
  Provenance run = provenance(options);
  run.add_input("dataset", absolute_path(dataset.source));
  run.add_input("features", absolute_path(per_fold ? o.fold_features : stores.order().at(0)));
  for (const auto& path : stores.order()) {
    // One store: features.<attribute>; per fold: features[<path>].<attribute>.
    const std::string prefix = per_fold ? "features[" + path + "]." : "features.";
    for (const auto& [key, value] : store_provenance_entries(stores.get(path).attributes(), prefix))
      run.extra[key] = value;
  }
  return run;
}

// What a skip or note is about, without its particulars (counts, ids, genes in parentheses):
// the key that groups the terminal lines.
std::string kind_of(const std::string& reason) {
  std::string kind;
  int depth = 0;
  for (char c : reason) {
    if (c == '(') ++depth;
    if (depth == 0 && !(c >= '0' && c <= '9')) kind += c;
    if (c == ')' && depth > 0) --depth;
  }
  return kind;
}

// One line per kind of skip (skipped.tsv) and of routine note (run.json), with its count and
// its first occurrence, however many there are.
void print_skip_notes(const EvaluationResult& result, const std::string& out,
                      const GlobalOptions& options) {
  auto print = [&](const std::vector<SkipRow>& rows, const char* label, const char* where) {
    std::vector<std::string> order;
    std::map<std::string, std::pair<int, const SkipRow*>> kinds;
    for (const auto& s : rows) {
      auto [it, fresh] = kinds.try_emplace(kind_of(s.reason), 0, &s);
      if (fresh) order.push_back(it->first);
      ++it->second.first;
    }
    for (const auto& kind : order) {
      const auto& [count, s] = kinds.at(kind);
      std::cerr << label << " " << count << "x (" << where << "), e.g. "
                << (s->layer.empty() ? "" : s->layer + " ") << s->stage_range
                << (s->term.empty() ? "" : " '" + s->term + "'")
                << (s->fold < 0 ? "" : " fold " + std::to_string(s->fold)) << ": " << s->reason
                << "\n";
    }
  };
  if (!options.quiet) {
    print(result.skipped, "skipped", "skipped.tsv");
    print(result.notes, "note", "run.json");
  }
  std::cerr << "wrote " << out << "/{metrics.tsv,summary.md,summary.tsv,predictions.tsv,"
            << (result.group_predictions.empty() ? "" : "group_predictions.tsv,")
            << "roc.tsv,skipped.tsv,run.json} (" << result.skipped.size() << " skips, "
            << result.notes.size() << " notes, " << format_duration(result.seconds.at("total"))
            << ")\n";
}

// The outputs must not replace an input: --out names a folder that is not the manifest or a
// store, and none of the files written into it is one of them.
void check_outputs_are_not_inputs(const EvaluateOptions& o) {
  std::vector<NamedPath> inputs = {{o.data, "the dataset"}};
  if (!o.features.empty()) inputs.push_back({o.features, "the feature store"});
  refuse_inputs_as_output(o.out, inputs);
  for (const char* f : {"metrics.tsv", "summary.tsv", "summary.md", "predictions.tsv",
                        "group_predictions.tsv", "roc.tsv", "skipped.tsv", "run.json"})
    refuse_inputs_as_output(o.out + "/" + f, inputs);
}

void run_evaluate(const EvaluateOptions& o, const GlobalOptions& options) {
  apply_threads(options);
  reuse_freed_memory();
  const Reporter reporter = make_reporter(options);
  const EvaluationParams params = evaluation_params(o, options);
  check_outputs_are_not_inputs(o);
  const auto ontology = read_ontology_option(o.ontology);
  const bool is_csv = std::filesystem::is_regular_file(o.data);
  const Dataset dataset = is_csv ? read_manifest(o.data, false) : read_dataset(o.data);
  OpenStores stores;
  const std::string pattern = o.fold_features;
  const EvaluationResult result =
      pattern.empty() ? run_evaluation(dataset, stores.get(o.features), params, reporter)
                      : run_evaluation(
                            dataset,
                            [&](const std::string& stage, int fold) -> const FeatureStoreReader& {
                              return stores.get(fold_store_path(pattern, stage, fold));
                            },
                            params, reporter);
  write_evaluation_outputs(o.out, result, params, run_provenance(o, dataset, stores, options));
  std::cout << summary_table(result);
  print_skip_notes(result, o.out, options);
  if (ontology) {
    resolve_ontology_terms(*ontology, distinct_terms(folder_tsv_files(o.out)), reporter);
    add_ontology_to_folder(*ontology, o.out);
    reporter.info("evaluate: term_id added from " + ontology->version() + " (" + o.out +
                  "/terms.tsv)");
  }
}

}  // namespace

void add_evaluate_command(CLI::App& app, GlobalOptions& options) {
  auto opt = std::make_shared<EvaluateOptions>();
  auto* cmd =
      app.add_subcommand("evaluate",
                         "grouped-CV evaluation of stored features: per stage range, top-k terms, "
                         "under-sampled l2 logistic-regression ensembles");
  add_evaluate_options(cmd, *opt);
  cmd->callback([opt, &options] { run_evaluate(*opt, options); });
}

}  // namespace ishannot::cli
