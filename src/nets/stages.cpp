#include "nets/stages.h"

#include "ishannot/common/assert.h"

namespace ishannot::detail {

std::pair<torch::Tensor, torch::Tensor> fold_batchnorm(const torch::Tensor& kernel,
                                                       const torch::Tensor& bias,
                                                       const torch::Tensor& gamma,
                                                       const torch::Tensor& beta,
                                                       const torch::Tensor& mean,
                                                       const torch::Tensor& variance, double eps) {
  const torch::Tensor factor = gamma / torch::sqrt(variance + eps);
  torch::Tensor w = kernel * factor.view({-1, 1, 1, 1});
  torch::Tensor b0 = bias.defined() ? bias : torch::zeros_like(mean);
  torch::Tensor b = (b0 - mean) * factor + beta;
  return {w.contiguous(), b.contiguous()};
}

torch::Tensor hwio_to_oihw(const torch::Tensor& kernel) {
  return kernel.permute({3, 2, 0, 1}).contiguous();
}

ConvStage::ConvStage(torch::Tensor w, torch::Tensor b, int stride, int padding, bool relu)
    : stride_(stride), padding_(padding), relu_(relu) {
  weight = register_parameter("weight", std::move(w));
  bias = register_parameter("bias", std::move(b));
}

torch::Tensor ConvStage::forward(const torch::Tensor& input) {
  // For inference call oneDNN directly: torch::conv2d picks its im2col + BLAS path for 1x1
  // convolutions on one thread with small batches, which is ~10x slower with Debian's BLAS.
  // Training keeps torch::conv2d (its autograd formulas).
  const bool onednn = !torch::GradMode::is_enabled() && input.is_cpu() &&
                      input.scalar_type() == torch::kFloat && torch::hasMKLDNN();
  torch::Tensor out = onednn ? at::mkldnn_convolution(input, weight, bias, {padding_, padding_},
                                                      {stride_, stride_}, {1, 1}, 1)
                             : torch::conv2d(input, weight, bias, stride_, padding_);
  return relu_ ? torch::relu_(out) : out;
}

torch::Tensor ReluStage::forward(const torch::Tensor& input) {
  // Not in place: the input may be a tap the caller keeps.
  return torch::relu(input);
}

MaxPoolStage::MaxPoolStage(int kernel, int stride, int padding)
    : kernel_(kernel), stride_(stride), padding_(padding) {}

torch::Tensor MaxPoolStage::forward(const torch::Tensor& input) {
  return torch::max_pool2d(input, kernel_, stride_, padding_);
}

BottleneckStage::BottleneckStage(std::shared_ptr<ConvStage> a, std::shared_ptr<ConvStage> b,
                                 std::shared_ptr<ConvStage> c,
                                 std::shared_ptr<ConvStage> projection)
    : a_(register_module("branch2a", std::move(a))),
      b_(register_module("branch2b", std::move(b))),
      c_(register_module("branch2c", std::move(c))) {
  if (projection) projection_ = register_module("branch1", std::move(projection));
}

torch::Tensor BottleneckStage::forward(const torch::Tensor& input) {
  torch::Tensor out = c_->forward(b_->forward(a_->forward(input)));
  out = projection_ ? out.add_(projection_->forward(input)) : out.add_(input);
  return torch::relu_(out);
}

torch::Tensor GlobalAvgPoolStage::forward(const torch::Tensor& input) {
  return input.mean({2, 3});
}

LinearStage::LinearStage(torch::Tensor w, torch::Tensor b, bool softmax) : softmax_(softmax) {
  weight = register_parameter("weight", std::move(w));
  bias = register_parameter("bias", std::move(b));
}

torch::Tensor LinearStage::forward(const torch::Tensor& input) {
  torch::Tensor flat = input.dim() > 2 ? input.flatten(1) : input;
  torch::Tensor out = torch::linear(flat, weight, bias);
  return softmax_ ? torch::softmax(out, 1) : out;
}

FloatArray float_view(const torch::Tensor& t) {
  const torch::Tensor c = t.contiguous();
  ISHANNOT_ASSERT(c.scalar_type() == torch::kFloat && c.is_cpu(), "a float CPU tensor");
  FloatArray out;
  out.shape.assign(c.sizes().begin(), c.sizes().end());
  out.data = c.data_ptr<float>();
  out.owner = std::make_shared<torch::Tensor>(c);
  return out;
}

torch::Tensor tensor_view(const FloatArray& a) {
  std::shared_ptr<void> owner = a.owner;
  return torch::from_blob(
      a.data, a.shape, [owner](void*) {}, torch::kFloat);
}

namespace {

const float* float_data(const torch::Tensor& t, std::vector<torch::Tensor>& kept) {
  if (!t.defined()) return nullptr;
  torch::Tensor c = t.detach();
  if (!c.is_contiguous() || c.scalar_type() != torch::kFloat || !c.is_cpu()) {
    kept.push_back(c.contiguous().to(torch::kCPU, torch::kFloat));
    c = kept.back();
  }
  return c.data_ptr<float>();
}

ConvSpec conv_spec(const ConvStage& conv, std::vector<torch::Tensor>& kept) {
  ISHANNOT_ASSERT(conv.weight.dim() == 4 && conv.weight.size(2) == conv.weight.size(3),
                  "a square OIHW convolution weight");
  ConvSpec spec;
  spec.weight = float_data(conv.weight, kept);
  spec.bias = float_data(conv.bias, kept);
  spec.out = conv.weight.size(0);
  spec.in = conv.weight.size(1);
  spec.kernel = conv.weight.size(2);
  spec.stride = conv.stride();
  spec.padding = conv.padding();
  spec.relu = conv.relu();
  return spec;
}

}  // namespace

std::vector<StageSpec> stage_specs(const std::vector<std::shared_ptr<Stage>>& stages,
                                   std::vector<torch::Tensor>& kept) {
  std::vector<StageSpec> out;
  for (const auto& stage : stages) {
    StageSpec spec;
    if (const auto* conv = dynamic_cast<const ConvStage*>(stage.get())) {
      spec.kind = StageSpec::Kind::kConv;
      spec.conv = conv_spec(*conv, kept);
    } else if (dynamic_cast<const ReluStage*>(stage.get())) {
      spec.kind = StageSpec::Kind::kRelu;
    } else if (const auto* pool = dynamic_cast<const MaxPoolStage*>(stage.get())) {
      spec.kind = StageSpec::Kind::kMaxPool;
      spec.kernel = pool->kernel();
      spec.stride = pool->stride();
      spec.padding = pool->padding();
    } else if (const auto* block = dynamic_cast<const BottleneckStage*>(stage.get())) {
      spec.kind = StageSpec::Kind::kBottleneck;
      spec.a = conv_spec(*block->a(), kept);
      spec.b = conv_spec(*block->b(), kept);
      spec.c = conv_spec(*block->c(), kept);
      if (block->projection()) spec.projection = conv_spec(*block->projection(), kept);
    }
    out.push_back(spec);
  }
  return out;
}

}  // namespace ishannot::detail
