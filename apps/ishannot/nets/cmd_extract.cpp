// ishannot extract: images (a manifest, a folder, BDGP tables with images) -> HDF5 feature store.
#include <torch/torch.h>

#include "../commands.h"
#include "../options.h"
#include "ishannot/common/error.h"
#include "ishannot/common/format.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/nets/backbone.h"
#include "ishannot/nets/extract.h"
#include "ishannot/nets/finetune.h"

namespace ishannot::cli {

namespace {

struct ExtractArgs {
  std::string data, out, backbone = "resnet50", weights, dtype = "float32", pool = "none", model;
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
  add_resume_options(cmd, a.resume, "OUT.partial");
  cmd->add_flag("--strict", a.params.strict,
                "stop at the first image that cannot be decoded (default: skip it, list it in "
                "OUT.skipped.tsv)");
}

// The backbone to read features from: a fine-tuned model's (recording it and the genes it saw in
// the store) or the pretrained one.
std::shared_ptr<Backbone> extraction_net(const ExtractArgs& a, ExtractParams& params,
                                         const Reporter& reporter) {
  if (a.model.empty()) return load_backbone(a.backbone, a.weights);
  const FinetunedModel model = load_finetuned_model(a.model, nullptr, a.weights);
  auto net = model.net->backbone_ptr();
  // The store's provenance names the fine-tuned model (its sidecar names the base weights).
  net->set_weights_provenance(a.model, sha256_file(a.model));
  if (a.input_size->count() == 0) params.input_size = model.input_size;
  std::string genes;
  for (const auto& g : model.seen_genes) genes += g + "\n";
  params.extra_attributes["finetune_stage_range"] = model.stage_range;
  params.extra_attributes["finetune_genes"] = genes;
  reporter.info("fine-tuned " + net->arch() + " from " + a.model + " (" + model.stage_range + ", " +
                std::to_string(model.terms.size()) + " terms)");
  return net;
}

void run_extract(const ExtractArgs& a, const GlobalOptions& options) {
  apply_torch_threads(options);
  const Reporter reporter = make_reporter(options);
  ExtractParams params = a.params;
  params.dtype = parse_dtype_option(a.dtype);
  params.pool = parse_pool_option(a.pool);
  params.command_line = options.command_line;
  require_valid("extract", params.check());
  params.resume = apply_resume_options(a.resume, {a.out + ".partial"});

  const Dataset dataset = read_dataset(a.data);
  for (const auto& skip : dataset.skipped)
    reporter.info("skipped " + std::to_string(skip.count) + ": " + skip.reason);
  const auto net = extraction_net(a, params, reporter);
  const ExtractResult r = extract_features(dataset, *net, params, a.out, reporter);
  std::string layers;
  for (const auto& l : r.layers)
    layers += " " + l.name + "[" + l.shape + " -> " + std::to_string(l.dim) + "]";
  std::string skipped;
  if (!r.skipped.empty())
    skipped =
        ", " + std::to_string(r.skipped.size()) + " skipped (listed in " + r.skipped_list + ")";
  reporter.info("wrote " + a.out + ": " + std::to_string(r.written + r.already_present) +
                " images (" + std::to_string(r.already_present) +
                " from an interrupted run), layers" + layers + skipped + ", " +
                format_duration(r.seconds));
}

}  // namespace

void add_extract_command(CLI::App& app, GlobalOptions& options) {
  auto args = std::make_shared<ExtractArgs>();
  auto* cmd = app.add_subcommand("extract", "CNN features of images into an HDF5 feature store");
  add_extract_options(cmd, *args);
  cmd->callback([args, &options] { run_extract(*args, options); });
}

}  // namespace ishannot::cli
