// `ishannot train --data D [--features F.h5] --out model.h5`: per stage range and term, the
// under-sampled l2 logistic-regression ensemble on all images (or a fold's training genes), with
// its cross-validated quality, written as a model bundle for `annotate`. Without --features the
// features are computed first with the default recipe (ResNet50 res4f, native input, grid-pooled).
#include <filesystem>
#include <iostream>
#include <sstream>

#include "commands.h"
#include "ishannot/annotate/model_card.h"
#include "ishannot/annotate/train.h"
#include "ishannot/common/error.h"
#include "ishannot/common/format.h"
#include "ishannot/data/folds.h"
#include "ishannot/features/store_attributes.h"
#include "ontology_cli.h"
#include "options.h"

namespace ishannot::cli {

namespace {

struct TrainOptions {
  std::string data, out, features, method = "TL", dtype = "float32", calibration = "platt",
                                   ontology;
  std::vector<std::string> stages, terms;
  TermOptions term_options;
  FoldOptions fold;
  ResumeOptions resume;
  RecipeOptions recipe;
  CLI::Option* layers = nullptr;
  CLI::Option* folds_option = nullptr;
  std::vector<CLI::Option*> recipe_only;  ///< options that only apply without --features
  int min_genes = 0, folds = 5;
  ClassifierOptions classifier;
  UnitOptions unit;
  int64_t slab_columns = 8192;
  bool keep_features = false;
};

void add_train_options(CLI::App* cmd, TrainOptions& o) {
  add_data_option(cmd, o.data);
  add_out_option(cmd, o.out, "the model bundle to write (HDF5; OUT.partial until complete)");
  add_ontology_option(cmd, o.ontology);
  cmd->add_option("--features", o.features,
                  "feature store (extract, extract --model, baseline); default: computed with "
                  "the recipe below into OUT.features.h5");
  o.layers = cmd->add_option("--layers", o.recipe.layers,
                             "layers (concatenated): of --features (default: all of the store), "
                             "or the taps to extract");
  o.recipe_only = {
      cmd->add_option("--backbone", o.recipe.backbone, "without --features: resnet50 | vgg16")
          ->capture_default_str(),
      cmd->add_option("--weights", o.recipe.weights,
                      "without --features: weight file (default: the setup's ResNet50)"),
      cmd->add_option("--model", o.recipe.model,
                      "without --features: a fine-tuned model (finetune) to extract from"),
      cmd->add_option("--input-size", o.recipe.input_size, "without --features: WxH or native")
          ->capture_default_str(),
      add_pool_option(cmd, o.recipe.pool, "without --features: pool each map to a grid"),
      add_batch_option(cmd, o.recipe.batch, "without --features: images per forward pass"),
      cmd->add_flag("--keep-features", o.keep_features,
                    "without --features: keep OUT.features.h5 (reusable with --features)")};
  add_stages_option(cmd, o.stages, "the ones to train (default: all present except 1-3)");
  add_term_options(cmd, o.term_options);
  cmd->add_option("--terms", o.terms, "train these terms instead of the top-k (comma-separated)")
      ->delimiter(',');
  cmd->add_option("--min-genes", o.min_genes,
                  "instead of the top-k: every term with at least N positive genes");
  add_fold_options(cmd, o.fold, "train on");
  o.folds_option =
      cmd->add_option("--folds", o.folds,
                      "grouped CV folds for the terms' quality (0 = none; evaluate's folds)")
          ->capture_default_str();
  add_classifier_options(cmd, o.classifier);
  add_unit_options(cmd, o.unit);
  cmd->add_option("--method", o.method, "label of the features (TL, TL+MTL, SC...)")
      ->capture_default_str();
  cmd->add_option("--calibration", o.calibration,
                  "per-term calibration of the score, fitted on the out-of-fold CV scores: "
                  "platt | isotonic | none")
      ->check(CLI::IsMember({"platt", "isotonic", "none"}))
      ->capture_default_str();
  cmd->add_option("--slab-columns", o.slab_columns, "feature columns per pass over the store")
      ->capture_default_str();
  // Not --dtype: that names stored feature values (extract, baseline).
  cmd->add_option("--weights-dtype", o.dtype, "the bundle's stored weights: float32 | float16")
      ->check(CLI::IsMember({"float32", "float16"}))
      ->capture_default_str();
  add_resume_options(cmd, o.resume, "OUT.partial (and OUT.features.h5.partial)");
}

std::vector<std::string> split_layers(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream in(list);
  for (std::string layer; std::getline(in, layer, ',');)
    if (!layer.empty()) out.push_back(layer);
  return out;
}

TrainParams train_params(const TrainOptions& o, const GlobalOptions& options) {
  TrainParams p;
  p.method = o.method;
  if (!o.features.empty() && o.layers->count() > 0) p.layers = split_layers(o.recipe.layers);
  p.stage_ranges = normalised_stages(o.stages);
  p.terms = o.term_options.params();
  p.explicit_terms = o.terms;
  p.min_positive_genes = o.min_genes;
  p.folds = o.folds;
  if (!o.fold.fold.empty()) {
    const FoldSpec spec = parse_usage([&] { return parse_fold_spec(o.fold.fold); });
    // --fold F/K fixes the folds at K: a different --folds was silently overridden before.
    if (o.folds_option->count() > 0 && o.folds != spec.folds)
      throw UsageError("train: --folds " + std::to_string(o.folds) + " and --fold " + o.fold.fold +
                       " disagree (--fold F/K uses K folds; drop --folds)");
    p.fold = spec.fold;
    p.folds = spec.folds;
  }
  if (!o.fold.train_genes.empty()) p.train_genes = read_gene_list(o.fold.train_genes);
  o.classifier.apply(p.fit);
  p.preprocessing = parse_usage([&] { return parse_preprocessing(o.classifier.preprocess); });
  p.unit = parse_usage([&] { return parse_evaluation_unit(o.unit.unit); });
  p.bag_pool = parse_usage([&] { return parse_bag_pool(o.unit.bag_pool); });
  o.unit.apply(p.pca, p.attention);
  p.gram.slab_columns = o.slab_columns;
  p.weights_dtype = parse_dtype_option(o.dtype);
  p.calibration = parse_calibration_method(o.calibration);
  p.seed = options.seed;
  if (!o.features.empty())
    for (const auto* option : o.recipe_only)
      if (option->count() > 0)
        throw UsageError("train: " + option->get_name() +
                         " describes how to compute features: it has no effect with --features");
  p.provenance = provenance(options);
  p.provenance.add_input("training_data", o.data);
  require_valid("train", p.check());
  return p;
}

// The store to train from: --features, or the recipe's features extracted into OUT.features.h5.
std::string training_store(const TrainOptions& o, const Dataset& dataset, bool resume,
                           const GlobalOptions& options, const Reporter& reporter) {
  if (!o.features.empty()) return o.features;
  const std::string store = o.out + ".features.h5";
  // The recipe as given, recorded in the store: a leftover store is reused only when it was made
  // from this dataset (manifest SHA-256) with this recipe.
  const std::map<std::string, std::string> recipe = {
      {"train_recipe", "backbone=" + o.recipe.backbone + ";weights=" + o.recipe.weights +
                           ";model=" + o.recipe.model + ";layers=" + o.recipe.layers +
                           ";input_size=" + o.recipe.input_size + ";pool=" + o.recipe.pool}};
  if (std::filesystem::exists(store) && resume) {
    const auto difference =
        store_origin_difference(FeatureStoreReader(store).attributes(), dataset, recipe);
    if (!difference.empty())
      throw file_error(store, "an earlier run's features, not reusable: " + difference +
                                  " (--restart makes them again)");
    reporter.info("train: reusing " + store +
                  " (an earlier run's features; --restart redoes them)");
    return store;
  }
  extract_recipe_features(dataset, o.recipe, recipe, store, resume, options, reporter);
  return store;
}

void run_train(const TrainOptions& o, const GlobalOptions& options) {
  apply_threads(options);
  reuse_freed_memory();
  const Reporter reporter = make_reporter(options);
  TrainParams params = train_params(o, options);
  const std::string features_file = o.out + ".features.h5";
  // Lock first, then restart: a second train on this --out stops here, before it deletes.
  ClaimedOutput claimed =
      claim_output(o.resume, o.out + ".partial", {o.out + ".partial", features_file + ".partial"});
  params.resume = claimed.resume;
  if (o.resume.restart && o.features.empty()) std::filesystem::remove(features_file);
  // With stored features the images need not exist (only their ids matter), as in evaluate.
  const bool manifest = std::filesystem::is_regular_file(o.data);
  const Dataset dataset =
      manifest && !o.features.empty() ? read_manifest(o.data, false) : read_dataset(o.data);
  for (const auto& skip : dataset.skipped)
    reporter.info("skipped " + std::to_string(skip.count) + ": " + skip.reason);
  // --ontology: the ids of every term of the data (a superset of the bundle's) in its attributes.
  if (const auto ontology = load_ontology_terms(o.ontology, dataset_terms(dataset), reporter))
    for (const auto& [key, value] : ontology_attributes(*ontology))
      params.provenance.extra[key] = value;
  const std::string store_path = training_store(o, dataset, params.resume, options, reporter);
  TrainSummary summary;
  {
    const FeatureStoreReader store(store_path);
    summary = train_model(dataset, store, params, o.out, reporter);
  }
  if (o.features.empty() && !o.keep_features) std::filesystem::remove(features_file);
  if (!options.quiet)
    for (const auto& note : collapse_notes(summary.notes)) std::cerr << "note: " << note << "\n";
  // The lock is on the inode the bundle was renamed from OUT.partial to OUT: HDF5's own file
  // locking would refuse to open the finished bundle while it is held. Release it first.
  { const FileLock released = std::move(claimed.lock); }
  // The model card's term table: which terms annotate will trust (ishannot inspect shows it all).
  std::cerr << "\n" << model_card_terms(read_model_bundle(o.out), CallBand{}) << "\n";
  std::cerr << "wrote " << o.out << ": " << summary.terms << " terms in "
            << summary.stage_ranges.size() << " stage ranges (" << format_duration(summary.seconds)
            << ")\n";
}

}  // namespace

void add_train_command(CLI::App& app, GlobalOptions& options) {
  auto opt = std::make_shared<TrainOptions>();
  auto* cmd = app.add_subcommand(
      "train", "train the annotation models on labelled images and write a model bundle");
  add_train_options(cmd, *opt);
  cmd->callback([opt, &options] { run_train(*opt, options); });
}

}  // namespace ishannot::cli
