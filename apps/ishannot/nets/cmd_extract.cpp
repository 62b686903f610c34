// ishannot extract: images (a manifest, a folder, BDGP tables with images) -> HDF5 feature store.
#include <torch/torch.h>

#include "../commands.h"
#include "ishannot/error.h"
#include "ishannot/extract.h"
#include "ishannot/finetune.h"
#include "ishannot/fs_util.h"
#include "ishannot/nets/backbone.h"

namespace ishannot::cli {

void add_extract_command(CLI::App& app, GlobalOptions& options) {
  struct Args {
    std::string data, out, backbone = "resnet50", weights, dtype = "float32", pool, model;
    ExtractParams params;
    bool restart = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("extract", "CNN features of images into an HDF5 feature store");
  cmd->add_option("--data", args->data, "manifest CSV, image folder, or BDGP table folder")
      ->required();
  cmd->add_option("--out", args->out, "output .h5 (written as OUT.partial, renamed when complete)")
      ->required();
  cmd->add_option("--backbone", args->backbone, "resnet50 | vgg16")->capture_default_str();
  cmd->add_option("--weights", args->weights, "weight file (default: the setup's ResNet50)");
  cmd->add_option("--layers", args->params.layers,
                  "taps: names or VGG16 paper numbers, e.g. 17,21,24,30 or res3d,res4f,res5c")
      ->capture_default_str();
  auto* input_size = cmd->add_option("--input-size", args->params.input_size, "WxH or native")
                         ->capture_default_str();
  cmd->add_option("--model", args->model,
                  "fine-tuned model from 'ishannot finetune': extract from its backbone (its "
                  "input size unless --input-size is given)");
  cmd->add_option("--pool", args->pool,
                  "pool each map to a grid first, e.g. 4x4 or max:4x4 (default: none)");
  cmd->add_option("--batch", args->params.batch, "images per forward pass")->capture_default_str();
  cmd->add_option("--dtype", args->dtype, "float32 | float16")
      ->check(CLI::IsMember({"float32", "float16"}))
      ->capture_default_str();
  cmd->add_flag("--restart", args->restart, "ignore an interrupted OUT.partial and start over");
  cmd->callback([args, &options, input_size] {
    apply_torch_threads(options);
    Reporter reporter = make_reporter(options);
    ExtractParams params = args->params;
    params.dtype = args->dtype == "float16" ? FeatureDtype::kFloat16 : FeatureDtype::kFloat32;
    params.resume = !args->restart;
    if (!args->pool.empty()) {
      std::string grid = args->pool;
      if (auto colon = grid.find(':'); colon != std::string::npos) {
        params.pool = grid.substr(0, colon);
        grid = grid.substr(colon + 1);
      }
      int gw = 0, gh = 0;
      char x = 0;
      if (std::sscanf(grid.c_str(), "%d%c%d", &gw, &x, &gh) != 3 || gw != gh || gw < 1) {
        throw Error("--pool '" + args->pool +
                    "': expected GxG (square grid), optionally avg: or max:");
      }
      params.pool_grid = gw;
    }
    if (args->restart) std::remove((args->out + ".partial").c_str());
    const Dataset dataset = read_dataset(args->data);
    for (const auto& skip : dataset.skipped)
      reporter.info("skipped " + std::to_string(skip.count) + ": " + skip.reason);
    std::shared_ptr<Backbone> net;
    if (!args->model.empty()) {
      const FinetunedModel model = load_finetuned_model(args->model, nullptr, args->weights);
      net = model.net->backbone_ptr();
      // The store's provenance names the fine-tuned model (its sidecar names the base weights).
      net->set_weights_provenance(args->model, sha256_file(args->model));
      if (input_size->count() == 0) params.input_size = model.input_size;
      std::string genes;
      for (const auto& g : model.seen_genes) genes += g + "\n";
      params.extra_attributes = {{"finetune_stage_range", model.stage_range},
                                 {"finetune_genes", genes}};
      reporter.info("fine-tuned " + net->arch() + " from " + args->model + " (" +
                    model.stage_range + ", " + std::to_string(model.terms.size()) + " terms)");
    } else {
      net = load_backbone(args->backbone, args->weights);
    }
    const ExtractResult r = extract_features(dataset, *net, params, args->out, reporter);
    std::string layers;
    for (const auto& l : r.layers)
      layers += " " + l.name + "[" + l.shape + " -> " + std::to_string(l.dim) + "]";
    reporter.info("wrote " + args->out + ": " + std::to_string(r.written + r.already_present) +
                  " images (" + std::to_string(r.already_present) +
                  " from an interrupted run), layers" + layers + ", " + std::to_string(r.seconds) +
                  " s");
  });
}

}  // namespace ishannot::cli
