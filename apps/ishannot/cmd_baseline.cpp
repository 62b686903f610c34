// `ishannot baseline --data D --out F.h5`: sparse-coding (SC) features (dense SIFT, learned
// dictionary, sparse codes, spatial-pyramid pooling) into the feature store, layers sc_<pooling>.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <set>

#include "commands.h"
#include "ishannot/common/error.h"
#include "ishannot/common/file_lock.h"
#include "ishannot/common/format.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/data/dataset.h"
#include "ishannot/data/folds.h"
#include "ishannot/data/subset.h"
#include "ishannot/features/store_attributes.h"
#include "ishannot/sparse/sc_baseline.h"
#include "ishannot/sparse/sc_store.h"
#include "options.h"

namespace ishannot::cli {
namespace {

struct BaselineOptions {
  std::string data, out, dictionary, save_dictionary, dtype = "float32";
  std::vector<std::string> stages;
  FoldOptions folds;
  TermOptions terms;
  ResumeOptions resume;
  std::vector<int> patches = {16};
  std::vector<std::string> pyramid = {"1", "2", "4"};
  std::vector<std::string> poolings = {"max", "avg", "sqrt"};
  std::string channel = "grey", coder = "lasso";
  int step = 8, atoms = 1024, sparsity = 10, dictionary_images = 2000, per_image = 100;
  int epochs = 1, batch = 32;
  double lambda = 0.15, contrast = 0.005;
  bool no_l2 = false;
};

// Wall and process-CPU seconds since construction (CPU time is the fair number on a busy machine).
struct Stopwatch {
  std::chrono::steady_clock::time_point wall = std::chrono::steady_clock::now();
  std::clock_t cpu = std::clock();
  std::string text(int64_t items = 0, const char* unit = "") const {
    const double w = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall).count();
    const double c = double(std::clock() - cpu) / CLOCKS_PER_SEC;
    std::string out = format_duration(w) + " wall, " + format_duration(c) + " CPU";
    if (items > 0) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "; %.2f %s/s wall, %.2f %s/CPU-s", items / w, unit, items / c,
                    unit);
      out += buf;
    }
    return out;
  }
};

std::string default_dictionary_path(const std::string& out) {
  std::filesystem::path p(out);
  return (p.parent_path() / (p.stem().string() + ".dictionary.txt")).string();
}

// Neither the store, its partial nor the dictionary written may be one of the files read.
void refuse_inputs_as_outputs(const BaselineOptions& o, const Dataset& ds) {
  std::vector<NamedPath> inputs = {{o.data, "the dataset"}, {ds.source, "the dataset"}};
  if (!o.dictionary.empty()) inputs.push_back({o.dictionary, "the dictionary"});
  for (const auto& image : ds.images) inputs.push_back({image.path, "an input image"});
  refuse_inputs_as_output(o.out, inputs);
  refuse_inputs_as_output(o.out + ".partial", inputs);
  if (o.dictionary.empty())
    refuse_inputs_as_output(
        o.save_dictionary.empty() ? default_dictionary_path(o.out) : o.save_dictionary, inputs);
}

ScBaselineParams baseline_params(const BaselineOptions& o, const GlobalOptions& options) {
  ScBaselineParams params;
  params.sift.patch_sizes = o.patches;
  params.sift.step = o.step;
  params.sift.channel = parse_usage([&] { return parse_sift_channel(o.channel); });
  params.sift.contrast_threshold = o.contrast;
  params.dictionary.atoms = o.atoms;
  params.dictionary.lambda = o.lambda;
  params.dictionary.epochs = o.epochs;
  params.dictionary.seed = options.seed;
  params.coding.coder = parse_usage([&] { return parse_coder_kind(o.coder); });
  params.coding.lambda = o.lambda;
  params.coding.sparsity = o.sparsity;
  params.pyramid.levels.clear();
  for (const auto& level : o.pyramid) {
    const PoolGrid grid = parse_pool_option(level);
    if (!grid.pooled()) throw UsageError("--pyramid '" + level + "': a level needs a grid");
    params.pyramid.levels.push_back({grid.rows, grid.cols});
  }
  params.pyramid.l2_normalise = !o.no_l2;
  params.poolings.clear();
  for (const auto& p : o.poolings)
    params.poolings.push_back(parse_usage([&] { return parse_pooling_kind(p); }));
  params.dictionary_images = o.dictionary_images;
  params.descriptors_per_image = o.per_image;
  require_valid("baseline", params.check());
  return params;
}

// The images to code: the dataset's, limited to --stages.
Dataset images_to_code(const Dataset& all, const std::vector<std::string>& stages) {
  Dataset ds = images_of_stages(all, stages);
  for (const auto& rec : ds.images)
    if (rec.path.empty()) throw Error(all.source + ": metadata-only dataset (no image files)");
  return ds;
}

// Where the dictionary comes from (sparse/sc_store.h): --dictionary, the interrupted run's, or
// learned from the images of the genes allowed (all, or the training genes of --fold /
// --train-genes: strict mode).
ScDictionaryChoice dictionary_choice(const BaselineOptions& o, const Dataset& all,
                                     const std::vector<std::string>& stages, bool resume,
                                     const GlobalOptions& options) {
  ScDictionaryChoice choice;
  choice.load_path = o.dictionary;
  choice.run_path = o.save_dictionary.empty() ? default_dictionary_path(o.out) : o.save_dictionary;
  choice.resume = resume;
  if (o.folds.given()) {
    if (!o.folds.fold.empty() && stages.size() != 1)
      throw UsageError("baseline: --fold needs exactly one stage range in --stages");
    choice.genes = training_genes(o.folds, all, stages.empty() ? "" : stages[0], o.terms.params(),
                                  options.seed);
    choice.genes_scope = describe_genes(o.folds, options.seed);
  }
  return choice;
}

void run_baseline(const BaselineOptions& o, const GlobalOptions& options) {
  apply_threads(options);
  const Reporter reporter = make_reporter(options);
  ScBaselineParams params = baseline_params(o, options);
  require_valid("baseline", o.terms.params().check());
  const auto stages = normalised_stages(o.stages);
  const Dataset all = read_dataset(o.data);
  const Dataset ds = images_to_code(all, stages);
  refuse_inputs_as_outputs(o, ds);
  check_store_output(o.out);  // a folder or a file of another kind: before any work
  // The output's lock next (shared with the store writer below): a second run on this --out
  // stops here, before it learns a dictionary over this run's. --restart does not delete
  // OUT.partial; the writer truncates it under the lock.
  std::error_code ec;
  const bool partial_present = std::filesystem::file_size(o.out + ".partial", ec) > 0 && !ec;
  const ClaimedOutput claimed = claim_output(o.resume, o.out + ".partial", {o.out + ".partial"});
  const bool resume = claimed.resume && partial_present;
  reporter.info("baseline: " + std::to_string(ds.images.size()) + " images from " + o.data);
  const ScDictionaryChoice choice = dictionary_choice(o, all, stages, resume, options);
  const Stopwatch learning;
  const ScDictionaryResult dict = sc_dictionary_for(ds, choice, params, reporter);
  reporter.info("baseline: dictionary ready (" + dict.scope + ") in " + learning.text());
  params.dictionary.atoms = dict.dictionary.size();

  const ScEncoder encoder(dict.dictionary, params);
  const auto attributes = sc_store_attributes(ds, encoder, dict, choice.genes, provenance(options));
  FeatureStoreWriter writer(o.out, encoder.layers(), parse_dtype_option(o.dtype), attributes,
                            resume);
  set_dataset_metadata(writer, ds);
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

void add_baseline_options(CLI::App* cmd, BaselineOptions& o) {
  add_data_option(cmd, o.data);
  add_out_option(cmd, o.out, "feature store to write (HDF5), layers sc_<pooling>");
  add_stages_option(cmd, o.stages, "the ones to code (default: all)");
  cmd->add_option("--dictionary", o.dictionary, "use this dictionary file instead of learning");
  cmd->add_option("--save-dictionary", o.save_dictionary,
                  "where to write the learned dictionary (default: OUT's stem + .dictionary.txt)");
  add_fold_options(cmd, o.folds, "strict mode: learn the dictionary from");
  add_term_options(cmd, o.terms);
  cmd->add_option("--atoms", o.atoms, "dictionary size K")->capture_default_str();
  cmd->add_option("--lambda", o.lambda, "lasso penalty (learning and coding)")
      ->capture_default_str();
  cmd->add_option("--coder", o.coder, "lasso | omp")
      ->check(CLI::IsMember({"lasso", "omp"}))
      ->capture_default_str();
  cmd->add_option("--sparsity", o.sparsity, "OMP: atoms per descriptor")->capture_default_str();
  cmd->add_option("--patch", o.patches, "SIFT patch sides in px (several = multi-scale)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--step", o.step, "SIFT grid step in px")->capture_default_str();
  cmd->add_option("--channel", o.channel, "grey | stain")
      ->check(CLI::IsMember({"grey", "gray", "stain"}))
      ->capture_default_str();
  cmd->add_option("--contrast-threshold", o.contrast, "SIFT contrast threshold (vl_phow)")
      ->capture_default_str();
  cmd->add_option("--pyramid", o.pyramid,
                  "pyramid levels, comma-separated grids in --pool's spelling (G or GhxGw)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--pooling", o.poolings, "max, avg, sqrt (one layer each)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_flag("--no-l2", o.no_l2, "do not l2-normalise the pooled vectors");
  cmd->add_option("--dictionary-images", o.dictionary_images,
                  "training images sampled for the dictionary (0 = all)")
      ->capture_default_str();
  cmd->add_option("--descriptors-per-image", o.per_image, "descriptors sampled per image")
      ->capture_default_str();
  cmd->add_option("--epochs", o.epochs, "online-learning passes over the sample")
      ->capture_default_str();
  add_batch_option(cmd, o.batch, "images coded per batch (parallel within a batch)");
  add_dtype_option(cmd, o.dtype);
  add_resume_options(cmd, o.resume, "OUT.partial and its dictionary");
}

}  // namespace

void add_baseline_command(CLI::App& app, GlobalOptions& options) {
  auto o = std::make_shared<BaselineOptions>();
  auto* cmd = app.add_subcommand(
      "baseline", "sparse-coding (SC) features: dense SIFT, dictionary, codes, pyramid pooling");
  add_baseline_options(cmd, *o);
  cmd->callback([o, &options] { run_baseline(*o, options); });
}

}  // namespace ishannot::cli
