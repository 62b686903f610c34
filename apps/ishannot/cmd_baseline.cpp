// `ishannot baseline --data D --out F.h5`: sparse-coding (SC) features (dense SIFT, learned
// dictionary, sparse codes, spatial-pyramid pooling) into the feature store, layers sc_<pooling>.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "commands.h"
#include "ishannot/dataset.h"
#include "ishannot/ensemble.h"
#include "ishannot/error.h"
#include "ishannot/fs_util.h"
#include "ishannot/sc_baseline.h"
#include "ishannot/splits.h"
#include "ishannot/terms.h"
#include "ishannot/version.h"

namespace ishannot::cli {
namespace {

struct BaselineOptions {
  std::string data, out, dictionary, save_dictionary, train_genes, fold;
  std::vector<std::string> stages;
  std::vector<int> patches = {16}, pyramid = {1, 2, 4};
  std::vector<std::string> poolings = {"max", "avg", "sqrt"};
  std::string channel = "grey", coder = "lasso";
  int step = 8, atoms = 1024, sparsity = 10, dictionary_images = 2000, per_image = 100;
  int epochs = 1, batch = 32;
  double lambda = 0.15, contrast = 0.005;
  bool no_l2 = false, float16 = false, resume = false;
};

std::set<std::string> read_gene_list(const std::string& path) {
  std::set<std::string> genes;
  std::istringstream in(read_text_file(path));
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty() && line[0] != '#') genes.insert(line);
  }
  if (genes.empty()) throw file_error(path, "no gene listed (one gene per line expected)");
  return genes;
}

// Training genes of outer fold k of K: the complement of fold k in the stratified grouped k-fold
// of the stage range's problem (default term selection), the call `ishannot evaluate` makes.
std::set<std::string> fold_training_genes(const Dataset& ds, const std::string& stage,
                                          const std::string& fold_text, uint64_t seed) {
  int k = -1, folds = 0;
  if (std::sscanf(fold_text.c_str(), "%d/%d", &k, &folds) != 2 || folds < 2 || k < 0 ||
      k >= folds) {
    throw Error("--fold '" + fold_text + "': expected k/K with 0 <= k < K, K >= 2");
  }
  const StageProblem problem = select_terms(ds, stage, TermSelectionParams{});
  std::vector<std::string> genes;
  for (int row : problem.image_indices) genes.push_back(ds.images[row].gene);
  // The split `ishannot evaluate` makes (src/eval/evaluation.cpp): seed derived from the stage
  // range's index, default term selection.
  const auto& names = stage_range_names();
  GroupedSplitParams split;
  split.folds = folds;
  split.seed = derive_seed(
      seed, {static_cast<uint64_t>(std::find(names.begin(), names.end(), stage) - names.begin())});
  const auto assignment =
      grouped_kfold(genes, problem.labels, static_cast<int>(problem.terms.size()), split);
  std::set<std::string> train;
  for (size_t i = 0; i < genes.size(); ++i) {
    if (assignment[i] != k) train.insert(genes[i]);
  }
  return train;
}

// Wall and process-CPU seconds since construction (CPU time is the fair number on a busy machine).
struct Stopwatch {
  std::chrono::steady_clock::time_point wall = std::chrono::steady_clock::now();
  std::clock_t cpu = std::clock();
  std::string text(int64_t items = 0, const char* unit = "") const {
    const double w = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall).count();
    const double c = double(std::clock() - cpu) / CLOCKS_PER_SEC;
    char buf[160];
    if (items > 0) {
      std::snprintf(buf, sizeof buf, "%.1f s wall, %.1f s CPU; %.2f %s/s wall, %.2f %s/CPU-s", w, c,
                    items / w, unit, items / c, unit);
    } else {
      std::snprintf(buf, sizeof buf, "%.1f s wall, %.1f s CPU", w, c);
    }
    return buf;
  }
};

// A dictionary is only meaningful for the descriptors it was learned on.
void check_dictionary_matches(const std::string& path, const Dictionary& dict,
                              const ScBaselineParams& params) {
  for (const auto& [key, value] : sc_attributes(params)) {
    if (key.rfind("sc_sift_", 0) != 0) continue;
    const auto it = dict.provenance.find(key);
    if (it != dict.provenance.end() && it->second != value) {
      throw file_error(
          path, "dictionary learned with " + key + "=" + it->second + ", this run uses " + value);
    }
  }
}

std::string default_dictionary_path(const std::string& out) {
  std::filesystem::path p(out);
  return (p.parent_path() / (p.stem().string() + ".dictionary.txt")).string();
}

void run_baseline(const BaselineOptions& o, const GlobalOptions& options) {
  apply_threads(options);
  const Reporter reporter = make_reporter(options);
  ScBaselineParams params;
  params.sift.patch_sizes = o.patches;
  params.sift.step = o.step;
  params.sift.channel = parse_sift_channel(o.channel);
  params.sift.contrast_threshold = o.contrast;
  params.dictionary.atoms = o.atoms;
  params.dictionary.lambda = o.lambda;
  params.dictionary.epochs = o.epochs;
  params.dictionary.seed = options.seed;
  params.coding.coder = parse_coder_kind(o.coder);
  params.coding.lambda = o.lambda;
  params.coding.sparsity = o.sparsity;
  params.pyramid.levels = o.pyramid;
  params.pyramid.l2_normalise = !o.no_l2;
  params.poolings.clear();
  for (const auto& p : o.poolings) params.poolings.push_back(parse_pooling_kind(p));
  params.dictionary_images = o.dictionary_images;
  params.descriptors_per_image = o.per_image;
  if (auto problem = params.check(); !problem.empty()) throw Error(problem);
  if (!o.train_genes.empty() && !o.fold.empty()) {
    throw Error("--train-genes and --fold both choose the dictionary's genes: give one");
  }

  const Dataset all = read_dataset(o.data);
  Dataset ds = all;
  if (!o.stages.empty()) {
    std::set<std::string> wanted;
    for (const auto& s : o.stages) wanted.insert(normalise_stage_range(s));
    ds.images.clear();
    for (const auto& rec : all.images) {
      if (wanted.count(rec.stage_range)) ds.images.push_back(rec);
    }
  }
  if (ds.images.empty()) throw Error(o.data + ": no image to code (check --stages)");
  for (const auto& rec : ds.images) {
    if (rec.path.empty()) throw Error(o.data + ": metadata-only dataset (no image files)");
  }
  reporter.info("baseline: " + std::to_string(ds.images.size()) + " images from " + o.data);

  // Which images the dictionary may see: all (unsupervised default) or the training genes.
  std::string dictionary_scope = "all images coded (no labels used)";
  std::set<std::string> train_genes;
  if (!o.train_genes.empty()) {
    train_genes = read_gene_list(o.train_genes);
    dictionary_scope = "training genes of " + o.train_genes;
  } else if (!o.fold.empty()) {
    if (o.stages.size() != 1) throw Error("--fold needs exactly one stage range in --stages");
    train_genes =
        fold_training_genes(all, normalise_stage_range(o.stages[0]), o.fold, options.seed);
    dictionary_scope =
        "training genes of outer fold " + o.fold + " (seed " + std::to_string(options.seed) + ")";
  }
  std::vector<std::string> train_paths;
  for (const auto& rec : ds.images) {
    if (train_genes.empty() || train_genes.count(rec.gene)) train_paths.push_back(rec.path);
  }

  Dictionary dict;
  const std::string auto_dict = default_dictionary_path(o.out);
  if (!o.dictionary.empty()) {
    dict = load_dictionary(o.dictionary);
    check_dictionary_matches(o.dictionary, dict, params);
    reporter.info("baseline: dictionary from " + o.dictionary);
    dictionary_scope = "loaded from " + o.dictionary;
  } else if (o.resume && std::filesystem::exists(auto_dict)) {
    dict = load_dictionary(auto_dict);
    check_dictionary_matches(auto_dict, dict, params);
    reporter.info("baseline: resuming with the dictionary " + auto_dict);
  } else {
    if (train_paths.empty()) throw Error("no image of the training genes among the images to code");
    reporter.info("baseline: learning a " + std::to_string(o.atoms) + "-atom dictionary from " +
                  dictionary_scope);
    const Stopwatch learning;
    dict = learn_sc_dictionary(train_paths, params, reporter);
    dict.provenance["dictionary_scope"] = dictionary_scope;
    reporter.info("baseline: dictionary learned in " + learning.text());
  }
  const std::string dict_path = o.save_dictionary.empty() ? auto_dict : o.save_dictionary;
  if (o.dictionary.empty()) save_dictionary(dict_path, dict);
  params.dictionary.atoms = dict.size();

  const ScEncoder encoder(dict, params);
  auto attributes = sc_attributes(params);
  attributes["backbone"] = "sparse-coding";
  attributes["tool_version"] = ISHANNOT_VERSION;
  attributes["seed"] = std::to_string(options.seed);
  attributes["created_by"] = "ishannot baseline";
  attributes["input_size"] = "native";
  attributes["pooling"] = attributes["sc_poolings"];
  attributes["sc_dictionary_scope"] = dictionary_scope;
  attributes["sc_dictionary_sha256"] = sha256_file(o.dictionary.empty() ? dict_path : o.dictionary);
  FeatureStoreWriter writer(o.out, encoder.layers(),
                            o.float16 ? FeatureDtype::kFloat16 : FeatureDtype::kFloat32, attributes,
                            o.resume);
  const Stopwatch coding;
  const ScRunSummary summary = write_sc_features(ds.images, encoder, writer, o.batch, reporter);
  writer.close();
  reporter.info("baseline: coded " + std::to_string(summary.written) + " images in " +
                coding.text(summary.written, "images"));
  reporter.info("baseline: wrote " + std::to_string(summary.written) + " images (" +
                std::to_string(summary.resumed) + " resumed) x " +
                std::to_string(encoder.layers().size()) + " layers of " +
                std::to_string(encoder.dim()) + " values to " + o.out + "; " +
                std::to_string(summary.blank_ids.size()) + " blank images");
}

}  // namespace

void add_baseline_command(CLI::App& app, GlobalOptions& options) {
  auto o = std::make_shared<BaselineOptions>();
  auto* cmd = app.add_subcommand(
      "baseline", "sparse-coding (SC) features: dense SIFT, dictionary, codes, pyramid pooling");
  cmd->add_option("--data", o->data, "manifest CSV, BDGP-table folder or image folder")->required();
  cmd->add_option("--out", o->out, "feature store to write (HDF5), layers sc_<pooling>")
      ->required();
  cmd->add_option("--stages", o->stages, "stage ranges to code (default: all)")->delimiter(',');
  cmd->add_option("--dictionary", o->dictionary, "use this dictionary file instead of learning");
  cmd->add_option("--save-dictionary", o->save_dictionary,
                  "where to write the learned dictionary (default: OUT's stem + .dictionary.txt)");
  cmd->add_option("--train-genes", o->train_genes,
                  "strict mode: learn the dictionary only from these genes (file, one per line)");
  cmd->add_option("--fold", o->fold,
                  "strict mode: learn the dictionary from the training genes of outer fold k/K "
                  "(needs one --stages; folds as in evaluate, same --seed)");
  cmd->add_option("--atoms", o->atoms, "dictionary size K")->capture_default_str();
  cmd->add_option("--lambda", o->lambda, "lasso penalty (learning and coding)")
      ->capture_default_str();
  cmd->add_option("--coder", o->coder, "lasso | omp")
      ->check(CLI::IsMember({"lasso", "omp"}))
      ->capture_default_str();
  cmd->add_option("--sparsity", o->sparsity, "OMP: atoms per descriptor")->capture_default_str();
  cmd->add_option("--patch", o->patches, "SIFT patch sides in px (several = multi-scale)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--step", o->step, "SIFT grid step in px")->capture_default_str();
  cmd->add_option("--channel", o->channel, "grey | stain")
      ->check(CLI::IsMember({"grey", "gray", "stain"}))
      ->capture_default_str();
  cmd->add_option("--contrast-threshold", o->contrast, "SIFT contrast threshold (vl_phow)")
      ->capture_default_str();
  cmd->add_option("--pyramid", o->pyramid, "pyramid grid sides")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--pooling", o->poolings, "max, avg, sqrt (one layer each)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_flag("--no-l2", o->no_l2, "do not l2-normalise the pooled vectors");
  cmd->add_option("--dictionary-images", o->dictionary_images,
                  "training images sampled for the dictionary (0 = all)")
      ->capture_default_str();
  cmd->add_option("--descriptors-per-image", o->per_image, "descriptors sampled per image")
      ->capture_default_str();
  cmd->add_option("--epochs", o->epochs, "online-learning passes over the sample")
      ->capture_default_str();
  cmd->add_option("--batch", o->batch, "images coded per batch (parallel within a batch)")
      ->capture_default_str();
  cmd->add_flag("--float16", o->float16, "store float16 instead of float32");
  cmd->add_flag("--resume", o->resume, "continue an interrupted run (OUT.partial)");
  cmd->callback([o, &options] { run_baseline(*o, options); });
}

}  // namespace ishannot::cli
