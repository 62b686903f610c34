#pragma once
// Stage modules shared by the backbones: convolution (BatchNorm folded in, optional ReLU), ReLU,
// max-pool, ResNet bottleneck block, global average pool, fully connected. Parameters are
// registered so that fine-tuning can train them.
#include <torch/torch.h>

#include "ishannot/nets/backbone.h"

namespace ishannot::detail {

/// BatchNorm folded into the convolution before it: w' = w * g / sqrt(v + eps),
/// b' = (b - m) * g / sqrt(v + eps) + beta. kernel is OIHW; bias may be undefined (= 0).
std::pair<torch::Tensor, torch::Tensor> fold_batchnorm(const torch::Tensor& kernel,
                                                       const torch::Tensor& bias,
                                                       const torch::Tensor& gamma,
                                                       const torch::Tensor& beta,
                                                       const torch::Tensor& mean,
                                                       const torch::Tensor& variance, double eps);

/// Keras HWIO kernel -> torch OIHW.
torch::Tensor hwio_to_oihw(const torch::Tensor& kernel);

/// 2-D convolution with bias, square stride and zero padding, optionally followed by ReLU.
class ConvStage : public Stage {
 public:
  ConvStage(torch::Tensor weight, torch::Tensor bias, int stride, int padding, bool relu);
  torch::Tensor forward(const torch::Tensor& input) override;
  int stride() const { return stride_; }
  int padding() const { return padding_; }
  bool relu() const { return relu_; }
  torch::Tensor weight, bias;

 private:
  int stride_, padding_;
  bool relu_;
};

class ReluStage : public Stage {
 public:
  torch::Tensor forward(const torch::Tensor& input) override;
};

class MaxPoolStage : public Stage {
 public:
  MaxPoolStage(int kernel, int stride, int padding);
  torch::Tensor forward(const torch::Tensor& input) override;
  int kernel() const { return kernel_; }
  int stride() const { return stride_; }
  int padding() const { return padding_; }

 private:
  int kernel_, stride_, padding_;
};

/// ResNet bottleneck: relu(c(relu(b(relu(a(x))))) + shortcut(x)), shortcut = projection conv or
/// identity. The convs carry their folded BatchNorm.
class BottleneckStage : public Stage {
 public:
  BottleneckStage(std::shared_ptr<ConvStage> a, std::shared_ptr<ConvStage> b,
                  std::shared_ptr<ConvStage> c, std::shared_ptr<ConvStage> projection);
  torch::Tensor forward(const torch::Tensor& input) override;
  const ConvStage* a() const { return a_.get(); }
  const ConvStage* b() const { return b_.get(); }
  const ConvStage* c() const { return c_.get(); }
  const ConvStage* projection() const { return projection_.get(); }  ///< null: identity

 private:
  std::shared_ptr<ConvStage> a_, b_, c_, projection_;
};

class GlobalAvgPoolStage : public Stage {
 public:
  torch::Tensor forward(const torch::Tensor& input) override;
};

/// Fully connected on the flattened input (C,H,W order); weight is [out, in].
class LinearStage : public Stage {
 public:
  LinearStage(torch::Tensor weight, torch::Tensor bias, bool softmax);
  torch::Tensor forward(const torch::Tensor& input) override;
  torch::Tensor weight, bias;

 private:
  bool softmax_;
};

/// A FloatArray viewing `t` made contiguous (float CPU), keeping that tensor alive; and a tensor
/// viewing `a`, keeping its owner alive: the crossings between libtorch and infer/ (no copy).
FloatArray float_view(const torch::Tensor& t);
torch::Tensor tensor_view(const FloatArray& a);

/// The stages as the torch-free plan reads them (infer/network.h StageSpec): pointers into the
/// convolutions' weights and biases, or into contiguous float copies of them kept in `kept`
/// (channels-last weights). Stages other than these five kinds are StageSpec::Kind::kOther.
std::vector<StageSpec> stage_specs(const std::vector<std::shared_ptr<Stage>>& stages,
                                   std::vector<torch::Tensor>& kept);

}  // namespace ishannot::detail
