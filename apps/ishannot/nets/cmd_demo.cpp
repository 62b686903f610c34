// `ishannot demo`: the main job on the embedded default, no data needed. Generates a synthetic
// BDGP-shaped dataset, extracts ResNet50 features (real ImageNet weights), runs the paper's
// evaluation protocol, prints the Table-2 style summary and writes the report (figures, HTML).
// Every step resumes: rerunning after an interruption reuses the images and the features
// already written.
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "../cnn_module.h"
#include "../options.h"
#include "cnn_commands.h"
#include "ishannot/common/format.h"
#include "ishannot/common/format_versions.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/data/dataset.h"
#include "ishannot/data/synth.h"
#include "ishannot/eval/evaluation.h"
#include "ishannot/features/store_attributes.h"
#include "ishannot/nets/backbone.h"
#include "ishannot/nets/extract.h"
#include "ishannot/nets/inference.h"
#include "ishannot/report/report.h"

namespace ishannot::cli {
namespace fs = std::filesystem;

namespace {

struct DemoArgs {
  std::string out = "ishannot-demo";
  int images = 1000;
  std::string layers = "res3d,res4f,res5c";
  std::string pool = "4x4";
  int folds = 5;
  std::string precision = "fp32";
};

// 1. Synthetic data (kept when a previous run made it with the same size, seed and generator).
Dataset demo_data(const DemoArgs& a, const GlobalOptions& options, int threads,
                  const Reporter& reporter) {
  const std::string data_dir = a.out + "/data";
  const std::string manifest = data_dir + "/images.csv";
  SynthParams synth;
  synth.images = a.images;
  synth.seed = options.seed;
  synth.threads = threads;
  const std::string stamp = data_dir + "/.demo-" + std::to_string(synth.images) + "-" +
                            std::to_string(synth.seed) + "-g" +
                            std::to_string(kSynthGeneratorVersion);
  if (!fs::exists(manifest) || !fs::exists(stamp)) {
    reporter.info("demo: generating " + std::to_string(synth.images) + " synthetic ISH images in " +
                  data_dir);
    fs::remove_all(a.out + "/features.h5");
    fs::remove_all(a.out + "/features.h5.partial");
    generate_synthetic(synth, data_dir, reporter);
    std::ofstream(stamp) << "made by ishannot demo\n";
  } else {
    reporter.info("demo: reusing the synthetic images in " + data_dir);
  }
  return read_manifest(manifest);
}

// 2. ResNet50 features (reused when the store was made with the same layers and pooling).
std::string demo_features(const DemoArgs& a, const Dataset& dataset, const PoolGrid& pool,
                          const GlobalOptions& options, const Reporter& reporter) {
  const std::string features = a.out + "/features.h5";
  if (fs::exists(features)) {
    const auto attributes = FeatureStoreReader(features).attributes();
    auto same = [&](const char* key, const std::string& value) {
      return attributes.count(key) && attributes.at(key) == value;
    };
    if (same("layers", a.layers) && same("pooling", pool.text()) &&
        same("precision", a.precision)) {
      reporter.info("demo: reusing " + features);
      return features;
    }
    reporter.info("demo: " + features +
                  " was made with other layers, pooling or precision: re-extracting");
    fs::remove(features);
  }
  auto net = load_backbone("resnet50", "");
  ExtractParams extract;
  extract.layers = a.layers;
  extract.pool = pool;
  extract.batch = 16;
  extract.precision = parse_precision_option(a.precision);
  extract.provenance = provenance(options);
  reporter.info("demo: extracting ResNet50 " + a.layers + " features (pooling " + pool.text() +
                ", " + a.precision + ") into " + features);
  extract_features(dataset, *net, extract, features, reporter);
  return features;
}

// 3. The paper's protocol.
void demo_evaluation(const DemoArgs& a, const Dataset& dataset, const std::string& features,
                     const GlobalOptions& options, const Reporter& reporter) {
  EvaluationParams params;
  params.folds = a.folds;
  params.seed = options.seed;
  params.level = EvaluationLevel::kBoth;  // also the aggregated-image group rows (image vs bag)
  FeatureStoreReader store(features);
  reporter.info("demo: evaluating (grouped " + std::to_string(params.folds) +
                "-fold by gene, top-10 terms per stage range, 11-member ensembles)");
  const EvaluationResult result = run_evaluation(dataset, store, params, reporter);
  const std::string results = a.out + "/results";
  Provenance run = provenance(options);
  run.add_input("dataset", absolute_path(dataset.source));
  run.add_input("features", absolute_path(features));
  run.extra = store_provenance_entries(store.attributes(), "features.");
  write_evaluation_outputs(results, result, params, run);
  std::cout << summary_table(result);
  std::cerr << "demo: results in " << results
            << "/ (summary.md, metrics.tsv, predictions.tsv, skipped.tsv, run.json); "
            << result.skipped.size() << " skip notes, evaluation "
            << format_duration(result.seconds.at("total")) << "\n";
  // The same folds, learning from the gene x stage-range bags (docs/EVALUATION.md, "Bag level").
  params.unit = EvaluationUnit::kBag;
  params.level = EvaluationLevel::kGroup;
  const EvaluationResult bags = run_evaluation(dataset, store, params, reporter);
  write_evaluation_outputs(a.out + "/results-bag", bags, params, run);
  std::cerr << "demo: bag-level results in " << a.out << "/results-bag/, evaluation "
            << format_duration(bags.seconds.at("total")) << "\n";
  // And the learned pooling: attention MIL over the same bags and folds.
  params.bag_pool = BagPool::kAttention;
  const EvaluationResult attention = run_evaluation(dataset, store, params, reporter);
  write_evaluation_outputs(a.out + "/results-bag-attention", attention, params, run);
  std::cerr << "demo: attention-MIL results in " << a.out << "/results-bag-attention/, evaluation "
            << format_duration(attention.seconds.at("total")) << "\n";
}

// 4. The report of the results: Table 2 beside the paper's values, Figures 3-7, ROC curves.
// Without Node.js or the vega bundles (scripts/setup.sh) the demo says so and still succeeds:
// its results are written.
void demo_report(const DemoArgs& a, const GlobalOptions& options, const Reporter& reporter) {
  ReportParams params;
  params.title = "ishannot demo: ResNet50 features, the paper's protocol";
  params.data = a.out + "/data/images.csv";
  params.provenance = provenance(options);
  try {
    const ReportResult report =
        write_report({a.out + "/results", a.out + "/results-bag", a.out + "/results-bag-attention"},
                     a.out + "/report", params, reporter);
    std::cerr << "demo: report (" << report.figures.size() << " figures, " << report.notes.size()
              << " notes), open it in a browser:\n";
    std::cout << report.index << "\n";
  } catch (const Error& e) {
    std::cerr << "demo: no report: " << e.what() << "\n";
  }
}

void run_demo(const DemoArgs& a, const GlobalOptions& options) {
  const int threads = configure_cnn_process(options);  // reuses freed memory as well
  const Reporter reporter = make_reporter(options);
  const PoolGrid pool = parse_pool_option(a.pool);
  InferenceEngine::require(parse_precision_option(a.precision));  // before any work
  fs::create_directories(a.out);
  const Dataset dataset = demo_data(a, options, threads, reporter);
  const std::string features = demo_features(a, dataset, pool, options, reporter);
  demo_evaluation(a, dataset, features, options, reporter);
  demo_report(a, options, reporter);
}

}  // namespace

void add_demo_command(CLI::App& app, GlobalOptions& options) {
  auto args = std::make_shared<DemoArgs>();
  auto* cmd = app.add_subcommand("demo", cnn_command_description("demo"));
  cmd->add_option("--out", args->out, "output folder")->capture_default_str();
  cmd->add_option("--images", args->images, "synthetic images over stage ranges 4-6..13-16")
      ->check(CLI::Range(100, 100000))
      ->capture_default_str();
  cmd->add_option("--layers", args->layers, "ResNet50 taps")->capture_default_str();
  add_pool_option(cmd, args->pool, "pool each map to a grid first");
  cmd->add_option("--folds", args->folds, "grouped folds (by gene)")
      ->check(CLI::Range(2, 100))
      ->capture_default_str();
  add_precision_option(cmd, args->precision);
  cmd->callback([args, &options] { run_demo(*args, options); });
}

}  // namespace ishannot::cli
