#pragma once
// The fine-tuning run's shared state (src/finetune/trainer.cpp runs it as named steps) and its
// outputs (finetune_outputs.cpp). Private to the finetune module.
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "finetune/checkpoint.h"
#include "ishannot/image/image.h"
#include "ishannot/nets/finetune.h"
#include "ishannot/nets/inference.h"
#include "ishannot/nets/multitask.h"

namespace ishannot::detail {

// One fine-tuning run: what the steps below share.
struct FinetuneRun {
  FinetuneRun(const Dataset& d, const StageProblem& p, const FinetuneParams& f, const Reporter& r,
              std::shared_ptr<Backbone> b)
      : dataset(d), problem(p), params(f), reporter(r), backbone(std::move(b)) {}
  const Dataset& dataset;
  const StageProblem& problem;
  const FinetuneParams& params;
  const Reporter& reporter;
  std::shared_ptr<Backbone> backbone;
  torch::Device device{torch::kCPU};
  int k = 0;  // terms
  int width = 0, height = 0;
  ResizePolicy policy = ResizePolicy::kSquash;
  std::vector<int> train_rows, val_rows;
  std::vector<cv::Mat> train_images, val_images;
  torch::Tensor train_targets, val_targets, pos_weight;
  std::shared_ptr<MultiTaskNet> net;
  std::unique_ptr<InferenceEngine> trunk_engine;  // the frozen trunk, on the CPU
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  TrainingState state;
  std::vector<torch::Tensor> best;  // trainable parameters of the best epoch
  bool use_cache = false;
  int variants = 1;
  std::vector<torch::Tensor> train_cache;
  torch::Tensor val_cache;

  const ImageRecord& image_of(int row) const {
    return dataset.images[static_cast<size_t>(problem.image_indices[static_cast<size_t>(row)])];
  }
  bool has_val() const { return !val_rows.empty(); }
};

/// OUT.curve.tsv: one row per epoch and metric (per-term validation AUCs by term).
void write_curve_tsv(const std::string& path, const std::vector<EpochRecord>& curve,
                     const std::vector<std::string>& terms);

/// Puts the best epoch's weights back into the network and saves it on the CPU with its sidecar
/// (format, backbone, head, preprocessing, genes, params, curve, command line).
void save_best_model(FinetuneRun& run, FinetuneResult& result, const std::string& out_path);

}  // namespace ishannot::detail
