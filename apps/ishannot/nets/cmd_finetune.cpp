// ishannot finetune: multi-task fine-tuning (TL+MTL) of a backbone on one stage range's terms.
#include <torch/torch.h>

#include "../cnn_module.h"
#include "../options.h"
#include "cnn_commands.h"
#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/nets/backbone.h"
#include "ishannot/nets/finetune.h"

namespace ishannot::cli {

namespace {

struct FinetuneArgs {
  std::string data, stage, out, backbone = "resnet50", weights;
  std::string head_pool = "avg";
  TermOptions terms;
  FoldOptions folds;
  ResumeOptions resume;
  bool no_augment = false, no_cache = false;
  FinetuneParams params;
};

void add_finetune_options(CLI::App* cmd, FinetuneArgs& a) {
  auto& p = a.params;
  add_data_option(cmd, a.data);
  cmd->add_option("--stage", a.stage,
                  "stage range: 13-16, or a stage (14 = 13-16), or range:N (BDGP's range number)")
      ->required();
  add_out_option(cmd, a.out,
                 "model file (libtorch archive; writes OUT.json sidecar, OUT.curve.tsv)");
  add_fold_options(cmd, a.folds, "fine-tune on");
  cmd->add_option("--backbone", a.backbone, "resnet50 | vgg16")->capture_default_str();
  cmd->add_option("--weights", a.weights, "base weight file (default: the setup's ResNet50)");
  add_term_options(cmd, a.terms);
  cmd->add_option("--cut", p.head.cut, "last backbone layer used")->capture_default_str();
  cmd->add_option("--freeze-through", p.head.freeze_through,
                  "layers up to this one stay fixed ('none': all trainable)")
      ->capture_default_str();
  cmd->add_option("--head-pool", a.head_pool,
                  "how the cut layer's map enters the head, in --pool's spelling: avg (global "
                  "average), max, avg:2x5, none (flatten)")
      ->capture_default_str();
  cmd->add_option("--hidden", p.head.hidden, "shared hidden layer size")->capture_default_str();
  cmd->add_option("--dropout", p.head.dropout, "dropout after the hidden layer")
      ->capture_default_str();
  cmd->add_option("--input-size", p.input_size, "WxH or native")->capture_default_str();
  cmd->add_option("--optimizer", p.optimizer, "sgd | adam")->capture_default_str();
  cmd->add_option("--lr", p.lr, "learning rate of the new head")->capture_default_str();
  cmd->add_option("--transfer-lr-factor", p.transfer_lr_factor,
                  "transferred layers learn at lr x this")
      ->capture_default_str();
  cmd->add_option("--momentum", p.momentum, "SGD momentum")->capture_default_str();
  cmd->add_option("--weight-decay", p.weight_decay, "l2 weight decay")->capture_default_str();
  add_batch_option(cmd, p.batch, "images per step");
  cmd->add_option("--epochs", p.epochs, "maximum epochs")->capture_default_str();
  cmd->add_option("--patience", p.patience, "early stopping patience (epochs)")
      ->capture_default_str();
  cmd->add_option("--val-fraction", p.val_fraction,
                  "fraction of the training genes held out for early stopping (0 = none)")
      ->capture_default_str();
  cmd->add_flag("--pos-weight", p.pos_weight,
                "weight each term's positives by negatives/positives (class imbalance)");
  cmd->add_option("--max-pos-weight", p.max_pos_weight, "cap of --pos-weight")
      ->capture_default_str();
  cmd->add_flag("--no-augment", a.no_augment, "no augmentation");
  cmd->add_option("--shift", p.augment.shift, "max shift (fraction of the size)")
      ->capture_default_str();
  cmd->add_option("--scale", p.augment.scale, "max zoom change")->capture_default_str();
  cmd->add_option("--brightness", p.augment.brightness, "max brightness change (fraction of 255)")
      ->capture_default_str();
  cmd->add_option("--contrast", p.augment.contrast, "max contrast change")->capture_default_str();
  cmd->add_option("--stain", p.augment.stain, "max stain density/hue change per channel")
      ->capture_default_str();
  cmd->add_flag("--flip", p.augment.flip_horizontal,
                "random horizontal flips (swap anterior/posterior: off for ISH)");
  cmd->add_flag("--no-cache", a.no_cache,
                "recompute the frozen trunk every epoch (default: cache it in memory)");
  cmd->add_option("--cache-variants", p.cache_variants,
                  "cached copies per image: 1 unaugmented + V-1 augmented")
      ->capture_default_str();
  cmd->add_option("--device", p.device, "cpu | cuda | cuda:N")->capture_default_str();
  add_resume_options(cmd, a.resume, "OUT.checkpoint (same options and data)");
  cmd->add_option("--stop-after", p.stop_after,
                  "end this run after N epochs, keeping the checkpoint (0 = run to the end)")
      ->capture_default_str();
}

FinetuneParams finetune_params(const FinetuneArgs& a, const GlobalOptions& options) {
  FinetuneParams params = a.params;
  params.seed = options.seed;
  params.augment.enabled = !a.no_augment;
  params.cache_trunk = !a.no_cache;
  params.head.pool = parse_pool_option(a.head_pool).text();
  params.provenance = provenance(options);
  require_valid("finetune", params.check());
  if (!a.folds.fold.empty()) parse_usage([&] { return parse_fold_spec(a.folds.fold); });
  return params;
}

// None of the files written (the model, its sidecar, curve and checkpoint) may be one it reads.
void refuse_inputs_as_outputs(const FinetuneArgs& a, const Dataset& dataset,
                              const Backbone* net = nullptr) {
  std::vector<NamedPath> inputs = {{a.data, "the dataset"}, {dataset.source, "the dataset"}};
  if (!a.weights.empty()) inputs.push_back({a.weights, "the weights"});
  if (net) inputs.push_back({net->weights_path(), "the weights"});
  for (const auto& image : dataset.images) inputs.push_back({image.path, "an input image"});
  for (const char* suffix : {"", ".json", ".curve.tsv", ".checkpoint"})
    refuse_inputs_as_output(a.out + suffix, inputs);
}

// The rows fine-tuning may read: the training genes of a fold or a list, else every gene.
std::vector<int> allowed_rows(const FinetuneArgs& a, const Dataset& dataset,
                              const StageProblem& problem, const GlobalOptions& options,
                              const Reporter& reporter) {
  std::vector<int> allowed;
  if (!a.folds.given()) {
    reporter.info("no --train-genes/--fold: fine-tuning on every gene of " + problem.stage_range +
                  " (do not evaluate on these genes)");
    for (int r = 0; r < problem.rows(); ++r) allowed.push_back(r);
    return allowed;
  }
  const auto genes =
      training_genes(a.folds, dataset, problem.stage_range, a.terms.params(), options.seed);
  allowed = rows_of_genes(dataset, problem, genes);
  reporter.info(describe_genes(a.folds, options.seed) + ": " + std::to_string(allowed.size()) +
                " of " + std::to_string(problem.rows()) + " images");
  return allowed;
}

void run_finetune(const FinetuneArgs& a, const GlobalOptions& options) {
  configure_cnn_process(options);
  const Reporter reporter = make_reporter(options);
  FinetuneParams params = finetune_params(a, options);
  const TermSelectionParams terms = a.terms.params();
  require_valid("finetune", terms.check());
  const std::string stage = parse_usage([&] { return normalise_stage_range(a.stage); });

  const Dataset dataset = read_dataset(a.data);
  for (const auto& skip : dataset.skipped)
    reporter.info("skipped " + std::to_string(skip.count) + ": " + skip.reason);
  const StageProblem problem = select_terms(dataset, stage, terms);
  const std::vector<int> allowed = allowed_rows(a, dataset, problem, options, reporter);
  refuse_inputs_as_outputs(a, dataset);
  check_model_output(a.out);  // before the network is loaded
  // Lock first, then restart: a second finetune on this --out stops here (not after an epoch),
  // before it deletes the first's checkpoint. OUT.lock is removed at the end.
  const ClaimedOutput claimed = claim_output(a.resume, a.out + ".lock", {a.out + ".checkpoint"});
  params.resume = claimed.resume;
  auto net = load_backbone(a.backbone, a.weights);
  refuse_inputs_as_outputs(a, dataset, net.get());
  const FinetuneResult r = finetune(dataset, problem, allowed, net, params, a.out, reporter);
  if (!r.finished) return;
  reporter.info("wrote " + a.out + " (+ .json, .curve.tsv): " + std::to_string(r.terms.size()) +
                " terms, best epoch " + std::to_string(r.best_epoch) + " of " +
                std::to_string(r.curve.size()) + (r.early_stopped ? " (early stop)" : ""));
}

}  // namespace

void add_finetune_command(CLI::App& app, GlobalOptions& options) {
  auto args = std::make_shared<FinetuneArgs>();
  auto* cmd = app.add_subcommand("finetune", cnn_command_description("finetune"));
  add_finetune_options(cmd, *args);
  cmd->callback([args, &options] { run_finetune(*args, options); });
}

}  // namespace ishannot::cli
