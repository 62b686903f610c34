// ishannot finetune: multi-task fine-tuning (TL+MTL) of a backbone on one stage range's terms.
#include <torch/torch.h>

#include <cstdio>
#include <sstream>

#include "../commands.h"
#include "ishannot/error.h"
#include "ishannot/finetune.h"
#include "ishannot/nets/backbone.h"

namespace ishannot::cli {

void add_finetune_command(CLI::App& app, GlobalOptions& options) {
  struct Args {
    std::string data, stage, out, backbone = "resnet50", weights, train_genes, fold, exclude;
    std::string view = "lateral";
    int top_k = 10;
    bool no_augment = false, no_cache = false;
    FinetuneParams params;
  };
  auto args = std::make_shared<Args>();
  auto& p = args->params;
  auto* cmd = app.add_subcommand(
      "finetune",
      "multi-task fine-tuning (TL+MTL): backbone + shared hidden layer + one output "
      "per term of a stage range");
  cmd->add_option("--data", args->data, "manifest CSV, or BDGP table folder with images")
      ->required();
  cmd->add_option("--stage", args->stage, "stage range, e.g. 13-16")->required();
  cmd->add_option("--out", args->out,
                  "model file (libtorch archive; writes OUT.json sidecar, OUT.curve.tsv)")
      ->required();
  auto* genes =
      cmd->add_option("--train-genes", args->train_genes,
                      "file of training genes (one per line): only their images are used");
  auto* fold = cmd->add_option(
      "--fold", args->fold,
      "F/K: train on the genes outside test fold F (0..K-1, evaluate's fold column) of K folds");
  genes->excludes(fold);
  cmd->add_option("--backbone", args->backbone, "resnet50 | vgg16")->capture_default_str();
  cmd->add_option("--weights", args->weights, "base weight file (default: the setup's ResNet50)");
  cmd->add_option("--top-k", args->top_k, "terms per stage range")->capture_default_str();
  cmd->add_option("--exclude", args->exclude, "terms never selected, ';'-separated");
  cmd->add_option("--view", args->view, "keep this view only ('' = all)")->capture_default_str();
  cmd->add_option("--cut", p.head.cut, "last backbone layer used")->capture_default_str();
  cmd->add_option("--freeze-through", p.head.freeze_through,
                  "layers up to this one stay fixed ('none': all trainable)")
      ->capture_default_str();
  cmd->add_option("--head-pool", p.head.pool, "avg | max | flatten (the cut layer's map)")
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
  cmd->add_option("--batch", p.batch, "images per step")->capture_default_str();
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
  cmd->add_flag("--no-augment", args->no_augment, "no augmentation");
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
  cmd->add_flag("--no-cache", args->no_cache,
                "recompute the frozen trunk every epoch (default: cache it in memory)");
  cmd->add_option("--cache-variants", p.cache_variants,
                  "cached copies per image: 1 unaugmented + V-1 augmented")
      ->capture_default_str();
  cmd->add_option("--device", p.device, "cpu | cuda | cuda:N")->capture_default_str();
  cmd->add_flag("--resume", p.resume, "continue OUT.checkpoint (same options and data)");
  cmd->add_option("--stop-after", p.stop_after,
                  "end this run after N epochs, keeping the checkpoint (0 = run to the end)")
      ->capture_default_str();
  cmd->callback([args, &options] {
    apply_torch_threads(options);
    Reporter reporter = make_reporter(options);
    FinetuneParams params = args->params;
    params.seed = options.seed;
    params.augment.enabled = !args->no_augment;
    params.cache_trunk = !args->no_cache;
    params.command_line = "ishannot finetune --data " + args->data + " --stage " + args->stage +
                          " --out " + args->out;
    if (auto problem = params.check(); !problem.empty()) throw Error("finetune: " + problem);

    const Dataset dataset = read_dataset(args->data);
    for (const auto& skip : dataset.skipped)
      reporter.info("skipped " + std::to_string(skip.count) + ": " + skip.reason);
    TermSelectionParams terms;
    terms.top_k = args->top_k;
    terms.view = args->view;
    std::stringstream excluded(args->exclude);
    for (std::string t; std::getline(excluded, t, ';');)
      if (!t.empty()) terms.exclude.push_back(t);
    if (auto problem = terms.check(); !problem.empty()) throw Error("finetune: " + problem);
    const StageProblem problem = select_terms(dataset, normalise_stage_range(args->stage), terms);

    std::vector<int> allowed;
    if (!args->train_genes.empty()) {
      allowed = rows_of_genes(dataset, problem, read_gene_list(args->train_genes));
    } else if (!args->fold.empty()) {
      int k = 0, folds = 0;
      char slash = 0;
      if (std::sscanf(args->fold.c_str(), "%d%c%d", &k, &slash, &folds) != 3 || slash != '/')
        throw Error("--fold '" + args->fold + "': expected F/K, e.g. 0/5 (F = 0..K-1)");
      allowed = rows_outside_fold(dataset, problem, k, folds, options.seed);
      reporter.info("outer fold " + args->fold + ": " + std::to_string(allowed.size()) + " of " +
                    std::to_string(problem.rows()) + " images are training genes");
    } else {
      reporter.info("no --train-genes/--fold: fine-tuning on every gene of " + problem.stage_range +
                    " (do not evaluate on these genes)");
      for (int r = 0; r < problem.rows(); ++r) allowed.push_back(r);
    }
    auto net = load_backbone(args->backbone, args->weights);
    const FinetuneResult r = finetune(dataset, problem, allowed, net, params, args->out, reporter);
    if (!r.finished) return;
    reporter.info("wrote " + args->out +
                  " (+ .json, .curve.tsv): " + std::to_string(r.terms.size()) +
                  " terms, best epoch " + std::to_string(r.best_epoch) + " of " +
                  std::to_string(r.curve.size()) + (r.early_stopped ? " (early stop)" : ""));
  });
}

}  // namespace ishannot::cli
