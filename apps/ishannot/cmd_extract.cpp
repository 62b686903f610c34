// ishannot extract: images (a manifest, a folder, BDGP tables with images) -> HDF5 feature store.
// In the torch-free CLI: the default ResNet50 runs from the prepared-weights cache without
// libtorch (infer/resnet50.h); anything else (VGG16, a fine-tuned model, no prepared weights
// yet, a tap on avg_pool or fc1000) comes from the CNN module (cnn_module.h), which loads it.
#include <optional>

#include "cnn_module.h"
#include "commands.h"
#include "ishannot/common/error.h"
#include "ishannot/common/format.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/data/shards.h"
#include "ishannot/data/subset.h"
#include "ishannot/infer/extract.h"
#include "ishannot/infer/plan_engine.h"
#include "ishannot/infer/resnet50.h"
#include "options.h"

namespace ishannot::cli {

namespace {

struct ExtractArgs {
  std::string data, out, backbone = "resnet50", weights, dtype = "float32", pool = "none", model,
                         precision = "fp32";
  std::string shard;                ///< "i/N" or ""
  std::vector<std::string> stages;  ///< only these stage ranges' images (empty: all)
  ResumeOptions resume;
  ExtractParams params;
  CLI::Option* input_size = nullptr;
};

void add_extract_options(CLI::App* cmd, ExtractArgs& a) {
  add_data_option(cmd, a.data);
  add_out_option(cmd, a.out, "output .h5 (written as OUT.partial, renamed when complete)");
  cmd->add_option("--backbone", a.backbone, "resnet50 | vgg16")->capture_default_str();
  cmd->add_option("--weights", a.weights, "weight file (default: the setup's ResNet50)");
  cmd->add_option("--layers", a.params.layers,
                  "taps: names or VGG16 paper numbers, e.g. 17,21,24,30 or res3d,res4f,res5c")
      ->capture_default_str();
  a.input_size =
      cmd->add_option("--input-size", a.params.input_size, "WxH or native")->capture_default_str();
  cmd->add_option("--model", a.model,
                  "fine-tuned model from 'ishannot finetune': extract from its backbone (its "
                  "input size unless --input-size is given)");
  add_pool_option(cmd, a.pool, "pool each map to a grid first (default: none = flatten, paper)");
  add_batch_option(cmd, a.params.batch, "images per forward pass");
  add_dtype_option(cmd, a.dtype);
  add_precision_option(cmd, a.precision);
  add_stages_option(cmd, a.stages, "extract only their images (default: all)");
  cmd->add_option("--shard", a.shard,
                  "extract only shard i of N (0-based): images [i*n/N, (i+1)*n/N) in dataset "
                  "order; 'ishannot merge' joins the N stores");
  add_resume_options(cmd, a.resume, "OUT.partial");
  cmd->add_flag("--strict", a.params.strict,
                "stop at the first image that cannot be decoded (default: skip it, list it in "
                "OUT.skipped.tsv)");
}

// The images this run extracts: all, those of --stages, or one shard of them (the selection is
// recorded in the store: 'ishannot merge' checks the shards against it).
Dataset images_to_extract(const Dataset& all, const std::vector<std::string>& stages,
                          const std::optional<ShardSpec>& shard, ExtractParams& params) {
  const Dataset dataset = images_of_stages(all, stages);
  if (!stages.empty()) {
    std::string list;
    for (const auto& s : stages) list += (list.empty() ? "" : ",") + s;
    params.extra_attributes["stage_ranges"] = list;
  }
  if (!shard) return dataset;
  for (const auto& [key, value] : shard_attributes(dataset, *shard))
    params.extra_attributes[key] = value;
  return shard_of(dataset, *shard);
}

// Neither the store nor its partial may be one of the files this run reads (`net`: once loaded,
// its weight file, the default one included).
void refuse_inputs_as_outputs(const ExtractArgs& a, const Dataset& dataset,
                              const FeatureNet* net = nullptr) {
  std::vector<NamedPath> inputs = {{a.data, "the dataset"}, {dataset.source, "the dataset"}};
  if (!a.weights.empty()) inputs.push_back({a.weights, "the weights"});
  if (net) inputs.push_back({net->identity().weights_path, "the weights"});
  if (!a.model.empty()) {
    inputs.push_back({a.model, "the fine-tuned model"});
    inputs.push_back({a.model + ".json", "the fine-tuned model's sidecar"});
  }
  for (const auto& image : dataset.images) inputs.push_back({image.path, "an input image"});
  refuse_inputs_as_output(a.out, inputs);
  refuse_inputs_as_output(a.out + ".partial", inputs);
}

// The network: the prepared ResNet50 without libtorch when it can serve, else the CNN module's.
std::unique_ptr<FeatureNet> extraction_network(const ExtractArgs& a, ExtractParams& params,
                                               const GlobalOptions& options,
                                               const Reporter& reporter) {
  const std::string dir = weights_cache_dir();
  if (a.backbone == "resnet50" && a.model.empty() && !dir.empty() &&
      prepared_resnet50_covers(params.layers)) {
    const std::string weights = a.weights.empty() ? default_resnet50_weights() : a.weights;
    PreparedLookup lookup;
    if (auto net = prepared_resnet50(weights, dir, &lookup, params.layers)) return net;
    if (lookup.why != "no cache")
      reporter.info("prepared weights " + lookup.file + ": " + lookup.why + "; rebuilding them");
  }
  return cnn_module().extraction_net(a.backbone, a.weights, a.model, a.input_size->count() > 0,
                                     params, options, reporter);
}

void run_extract(const ExtractArgs& a, const GlobalOptions& options) {
  reuse_freed_memory(/*one_arena=*/true);  // per-batch buffers (commands.h)
  apply_threads(options);
  const Reporter reporter = make_reporter(options);
  ExtractParams params = a.params;
  params.dtype = parse_dtype_option(a.dtype);
  params.pool = parse_pool_option(a.pool);
  params.precision = parse_precision_option(a.precision);
  PlanEngine::require(params.precision);
  params.provenance = provenance(options);
  require_valid("extract", params.check());

  const auto stages = normalised_stages(a.stages);
  std::optional<ShardSpec> shard;
  if (!a.shard.empty()) shard = parse_usage([&] { return parse_shard_spec(a.shard); });
  const Dataset all = read_dataset(a.data);
  for (const auto& skip : all.skipped)
    reporter.info("skipped " + std::to_string(skip.count) + ": " + skip.reason);
  const Dataset dataset = images_to_extract(all, stages, shard, params);
  refuse_inputs_as_outputs(a, dataset);
  check_store_output(a.out);  // a folder or a file of another kind: now, not after the network
  // Lock first, then restart (--restart does not delete OUT.partial: the writer truncates it
  // under the lock), so a run that is still writing it is never cut short by another.
  const ClaimedOutput claimed = claim_output(a.resume, a.out + ".partial", {a.out + ".partial"});
  params.resume = claimed.resume;
  const std::unique_ptr<FeatureNet> net = extraction_network(a, params, options, reporter);
  refuse_inputs_as_outputs(a, dataset, net.get());
  const ExtractResult r = extract_features(dataset, *net, params, a.out, reporter);
  std::string layers;
  for (const auto& l : r.layers)
    layers += " " + l.name + "[" + l.shape + " -> " + std::to_string(l.dim) + "]";
  std::string skipped, first_batch;
  if (r.first_batch_seconds >= 0)
    first_batch = " (first batch done " + format_duration(r.first_batch_seconds) +
                  " after the process started)";
  if (!r.skipped.empty())
    skipped =
        ", " + std::to_string(r.skipped.size()) + " skipped (listed in " + r.skipped_list + ")";
  reporter.info("wrote " + a.out + ": " + std::to_string(r.written + r.already_present) +
                " images (" + std::to_string(r.already_present) +
                " from an interrupted run), layers" + layers + skipped + ", " +
                format_duration(r.seconds) + first_batch);
}

}  // namespace

void add_extract_command(CLI::App& app, GlobalOptions& options) {
  auto args = std::make_shared<ExtractArgs>();
  auto* cmd = app.add_subcommand("extract", "CNN features of images into an HDF5 feature store");
  add_extract_options(cmd, *args);
  cmd->callback([args, &options] { run_extract(*args, options); });
}

}  // namespace ishannot::cli
