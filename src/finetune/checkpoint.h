#pragma once
// Internal: the state a fine-tuning run needs to continue after a kill, written atomically as one
// libtorch archive (OUT.checkpoint) after every epoch: the network, the optimizer (momentum / Adam
// moments), the best weights so far (early stopping), the training curve and counters, and a
// fingerprint of the configuration so that a resume cannot silently mix two runs.
#include <torch/torch.h>

#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ishannot/nets/finetune.h"

namespace ishannot {
/// The parameters that change the trained weights, as JSON (finetune_params.cpp).
nlohmann::json finetune_params_json(const FinetuneParams& params);
}  // namespace ishannot

namespace ishannot::detail {

struct TrainingState {
  int epochs_done = 0;
  int best_epoch = 0;
  double best_val_loss = std::numeric_limits<double>::infinity();
  int bad_epochs = 0;    ///< epochs since the best one
  bool stopped = false;  ///< early stopping fired
  std::vector<EpochRecord> curve;
  std::string fingerprint;
};

nlohmann::json curve_to_json(const std::vector<EpochRecord>& curve);
std::vector<EpochRecord> curve_from_json(const nlohmann::json& j);

/// Writes the checkpoint atomically. `best` holds the trainable parameters of the best epoch.
void save_checkpoint(const std::string& path, MultiTaskNet& net, torch::optim::Optimizer& optimizer,
                     const std::vector<torch::Tensor>& best, const TrainingState& state);

/// Reads a checkpoint into net, optimizer, best and state, with its tensors on `device` (where the
/// network is). Throws Error naming the file when it cannot be read or its fingerprint differs
/// from `fingerprint`.
void load_checkpoint(const std::string& path, const std::string& fingerprint, MultiTaskNet& net,
                     torch::optim::Optimizer& optimizer, std::vector<torch::Tensor>* best,
                     TrainingState* state, const torch::Device& device);

/// Tensors of `net` that train (requires_grad), in parameter order.
std::vector<torch::Tensor> trainable_parameters(MultiTaskNet& net);

/// The fine-tuned model: MODEL (archive of the whole network) and MODEL.json (sidecar).
void save_model(const std::string& path, MultiTaskNet& net, const nlohmann::json& sidecar);

}  // namespace ishannot::detail
