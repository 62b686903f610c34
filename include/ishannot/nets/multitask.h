#pragma once
// The multi-task network of the paper's TL+MTL (Zhang et al. 2015): a pretrained backbone up to a
// cut stage, then one shared hidden layer (ReLU, dropout) and k outputs, one logit per CV term.
//
//   image -> [stages 0..F: frozen trunk] -> [stages F+1..cut: transferred, trainable]
//         -> pool (global average by default) -> Linear(hidden) -> ReLU -> Dropout -> Linear(k)
//
// F is `freeze_through` (-1: nothing frozen). The split matters for speed: the frozen trunk's
// output does not change during training, so the trainer may compute it once and cache it.
// BatchNorm is folded into the convolutions when the backbone is loaded (backbone.h), so the
// transferred layers train with a frozen affine BatchNorm: no batch statistics, no running means,
// and train and eval mode differ only by the head's dropout.
#include <torch/nn/module.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

#include "ishannot/features/pool_grid.h"
#include "ishannot/nets/backbone.h"

namespace ishannot {

/// Shape of the multi-task head and where it sits on the backbone.
struct MultiTaskSpec {
  std::string cut = "res5c";             ///< last backbone stage used (name or paper number)
  std::string freeze_through = "res3d";  ///< stages up to this one are fixed; "none" = none
  /// How the cut layer's CxHxW map becomes the head's input, in the --pool spelling
  /// (features/pool_grid.h): "avg" (global average, default), "max", "avg:2x5", "none"/"flatten".
  std::string pool = "avg";
  int hidden = 512;      ///< width of the shared hidden layer
  double dropout = 0.5;  ///< dropout after the hidden layer (training only)
  /// "" when valid, else what is wrong (layer names are checked against a backbone later).
  std::string check() const;
};

class MultiTaskNet : public torch::nn::Module {
 public:
  /// Builds the head on `backbone` for `outputs` terms at an input of width x height (the head's
  /// input size depends on it unless pool is avg/max). Throws Error for an unknown layer, a
  /// freeze point after the cut, or an input size the cut cannot run at. The head is initialised
  /// from torch's global generator (seed it first).
  MultiTaskNet(std::shared_ptr<Backbone> backbone, const MultiTaskSpec& spec, int outputs,
               int width, int height);

  Backbone& backbone() { return *backbone_; }
  std::shared_ptr<Backbone> backbone_ptr() const { return backbone_; }
  const MultiTaskSpec& spec() const { return spec_; }
  int cut() const { return cut_; }                        ///< stage index
  int frozen_through() const { return frozen_through_; }  ///< stage index, -1 = none
  int outputs() const { return outputs_; }
  int64_t head_input_dim() const { return head_input_dim_; }

  /// Runs the frozen stages (without autograd); the identity when nothing is frozen.
  torch::Tensor trunk(const torch::Tensor& input);
  /// Runs the trainable stages and the head on a trunk output: logits [N, k].
  torch::Tensor upper(const torch::Tensor& trunk_output);
  /// upper(trunk(input)).
  torch::Tensor forward(const torch::Tensor& input) { return upper(trunk(input)); }

  /// Trainable parameters of the transferred stages (frozen_through+1..cut).
  std::vector<torch::Tensor> transferred_parameters();
  /// Parameters of the new head.
  std::vector<torch::Tensor> head_parameters();

 private:
  std::shared_ptr<Backbone> backbone_;
  MultiTaskSpec spec_;
  int cut_ = 0, frozen_through_ = -1, outputs_ = 0;
  int64_t head_input_dim_ = 0;
  PoolGrid pool_;
  torch::nn::Linear hidden_{nullptr}, output_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
};

/// The paper's loss: for each image, the sum over the k terms of the binary cross-entropy of
/// sigmoid(logit) against the 0/1 label; averaged over the images of the batch.
/// pos_weight (optional, [k]): the positive term of term j's cross-entropy is multiplied by
/// pos_weight[j] (typically negatives/positives of the term on the training images), so rare
/// terms are not drowned by their negatives.
torch::Tensor multitask_loss(const torch::Tensor& logits, const torch::Tensor& targets,
                             const torch::Tensor& pos_weight = {});

}  // namespace ishannot
