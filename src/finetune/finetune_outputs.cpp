// The fine-tuning run's outputs: the learning curve and the best model with its sidecar.
#include <torch/torch.h>

#include "finetune/finetune_run.h"
#include "ishannot/common/format.h"
#include "ishannot/common/format_versions.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/version.h"

namespace ishannot::detail {
namespace {

nlohmann::json model_sidecar(const FinetuneRun& run, const FinetuneResult& result) {
  const auto& backbone = *run.backbone;
  const auto& net = *run.net;
  const auto& pre = backbone.preprocessing();
  return {
      {"format", "ishannot-finetuned-model"},
      {"format_version", kFinetunedModelFormatVersion},
      {"tool_version", run.params.provenance.version()},
      {"backbone", backbone.arch()},
      {"base_weights_path", backbone.weights_path()},
      {"base_weights_sha256", backbone.weights_sha256()},
      {"head",
       {{"cut", backbone.layers()[static_cast<size_t>(net.cut())].name},
        {"freeze_through", net.frozen_through() < 0
                               ? std::string("none")
                               : backbone.layers()[static_cast<size_t>(net.frozen_through())].name},
        {"pool", run.params.head.pool},
        {"hidden", run.params.head.hidden},
        {"dropout", run.params.head.dropout},
        {"input_dim", net.head_input_dim()}}},
      {"input_size", run.params.input_size},
      {"input_width", run.width},
      {"input_height", run.height},
      {"preprocessing",
       {{"name", pre.name},
        {"rgb", pre.rgb},
        {"scale", pre.scale},
        {"mean", pre.mean},
        {"std", pre.stdev}}},
      {"stage_range", run.problem.stage_range},
      {"terms", run.problem.terms},
      {"data_source", run.dataset.source},
      {"train_genes", result.train_genes},
      {"val_genes", result.val_genes},
      {"train_images", result.train_images},
      {"val_images", result.val_images},
      {"params", finetune_params_json(run.params)},
      {"best_epoch", run.state.best_epoch},
      {"early_stopped", run.state.stopped},
      {"curve", curve_to_json(run.state.curve)},
      {"command_line", run.params.provenance.command_line}};
}

}  // namespace

void write_curve_tsv(const std::string& path, const std::vector<EpochRecord>& curve,
                     const std::vector<std::string>& terms) {
  std::string text = "epoch\tmetric\tterm\tvalue\n";
  auto row = [&](int epoch, const std::string& metric, const std::string& term, double v) {
    text += std::to_string(epoch) + "\t" + metric + "\t" + term + "\t" + format_exact(v) + "\n";
  };
  for (const EpochRecord& e : curve) {
    row(e.epoch, "train_loss", "", e.train_loss);
    row(e.epoch, "val_loss", "", e.val_loss);
    row(e.epoch, "mean_val_auc", "", e.mean_val_auc);
    for (size_t t = 0; t < terms.size() && t < e.val_auc.size(); ++t)
      row(e.epoch, "val_auc", terms[t], e.val_auc[t]);
    row(e.epoch, "seconds", "", e.seconds);
    row(e.epoch, "cpu_seconds", "", e.cpu_seconds);
  }
  write_text_atomically(path, text);
}

// The best epoch's weights, saved on the CPU so that any machine can read them.
void save_best_model(FinetuneRun& run, FinetuneResult& result, const std::string& out_path) {
  {
    torch::NoGradGuard no_grad;
    auto params_now = trainable_parameters(*run.net);
    for (size_t i = 0; i < params_now.size(); ++i) params_now[i].copy_(run.best[i]);
  }
  run.net->to(torch::kCPU);
  run.net->eval();
  result.finished = true;
  result.early_stopped = run.state.stopped;
  save_model(out_path, *run.net, model_sidecar(run, result));
}

}  // namespace ishannot::detail
