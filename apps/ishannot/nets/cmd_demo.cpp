// `ishannot demo`: the main job on the embedded default, no data needed. Generates a synthetic
// BDGP-shaped dataset, extracts ResNet50 features (real ImageNet weights), runs the paper's
// evaluation protocol and prints the Table-2 style summary. Every step resumes: rerunning after
// an interruption reuses the images and the features already written.
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "../commands.h"
#include "ishannot/dataset.h"
#include "ishannot/evaluation.h"
#include "ishannot/extract.h"
#include "ishannot/nets/backbone.h"
#include "ishannot/synth.h"

namespace ishannot::cli {
namespace fs = std::filesystem;

void add_demo_command(CLI::App& app, GlobalOptions& options) {
  struct Args {
    std::string out = "ishannot-demo";
    int images = 1000;
    std::string layers = "res3d,res4f,res5c";
    int pool = 4;
    int folds = 5;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "demo", "synthetic BDGP-shaped data -> ResNet50 features -> evaluation (the main job)");
  cmd->add_option("--out", args->out, "output folder")->capture_default_str();
  cmd->add_option("--images", args->images, "synthetic images over stage ranges 4-6..13-16")
      ->check(CLI::Range(100, 100000))
      ->capture_default_str();
  cmd->add_option("--layers", args->layers, "ResNet50 taps")->capture_default_str();
  cmd->add_option("--pool", args->pool, "pool each map to GxG cells (0 = flatten, paper)")
      ->capture_default_str();
  cmd->add_option("--folds", args->folds, "grouped folds (by gene)")->capture_default_str();
  cmd->callback([args, &options] {
    apply_torch_threads(options);
    const Reporter reporter = make_reporter(options);
    fs::create_directories(args->out);
    const std::string data_dir = args->out + "/data";
    const std::string manifest = data_dir + "/images.csv";

    // 1. Synthetic data (kept when a previous run made it with the same size and seed).
    SynthParams synth;
    synth.images = args->images;
    synth.seed = options.seed;
    synth.threads = options.threads;
    const std::string stamp =
        data_dir + "/.demo-" + std::to_string(synth.images) + "-" + std::to_string(synth.seed);
    if (!fs::exists(manifest) || !fs::exists(stamp)) {
      reporter.info("demo: generating " + std::to_string(synth.images) +
                    " synthetic ISH images in " + data_dir);
      fs::remove_all(args->out + "/features.h5");
      fs::remove_all(args->out + "/features.h5.partial");
      generate_synthetic(synth, data_dir, reporter);
      std::ofstream(stamp) << "made by ishannot demo\n";
    } else {
      reporter.info("demo: reusing the synthetic images in " + data_dir);
    }
    const Dataset dataset = read_manifest(manifest);

    // 2. ResNet50 features.
    const std::string features = args->out + "/features.h5";
    if (!fs::exists(features)) {
      auto net = load_backbone("resnet50", "");
      ExtractParams extract;
      extract.layers = args->layers;
      extract.pool_grid = args->pool;
      extract.batch = 16;
      reporter.info("demo: extracting ResNet50 " + args->layers + " features (" +
                    (args->pool > 0 ? "avg-pooled to " + std::to_string(args->pool) + "x" +
                                          std::to_string(args->pool)
                                    : std::string("flattened")) +
                    ") into " + features);
      extract_features(dataset, *net, extract, features, reporter);
    } else {
      reporter.info("demo: reusing " + features);
    }

    // 3. The paper's protocol.
    EvaluationParams params;
    params.folds = args->folds;
    params.seed = options.seed;
    FeatureStoreReader store(features);
    reporter.info("demo: evaluating (grouped " + std::to_string(params.folds) +
                  "-fold by gene, top-10 terms per stage range, 11-member ensembles)");
    const EvaluationResult result = run_evaluation(dataset, store, params, reporter);
    const std::string results = args->out + "/results";
    std::map<std::string, std::string> provenance = {
        {"command", "ishannot demo --images " + std::to_string(args->images) + " --layers " +
                        args->layers + " --pool " + std::to_string(args->pool)},
        {"dataset", manifest},
        {"features", features}};
    for (const auto& [key, value] : store.attributes()) provenance["features." + key] = value;
    write_evaluation_outputs(results, result, params, provenance);
    std::cout << summary_table(result);
    std::cerr << "demo: results in " << results
              << "/ (summary.md, metrics.tsv, predictions.tsv, skipped.tsv, run.json); "
              << result.skipped.size() << " skip notes, evaluation "
              << static_cast<int>(result.seconds.at("total")) << " s\n";
  });
}

}  // namespace ishannot::cli
