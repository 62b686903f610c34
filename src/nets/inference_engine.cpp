// InferenceEngine: the backbone's stages as plain data run by a PlanEngine; the stages a plan does
// not cover run through the backbone's torch modules.
#include "ishannot/nets/inference.h"

#include <torch/torch.h>

#include <algorithm>

#include "ishannot/common/error.h"
#include "ishannot/nets/backbone.h"
#include "nets/stages.h"

namespace ishannot {

InferenceEngine::InferenceEngine(Backbone& net, std::vector<int> taps, bool compile,
                                 Precision precision)
    : net_(net), taps_(std::move(taps)), compile_(compile), precision_(precision) {
  require(precision_);
  if (precision_ == Precision::kBf16 && !compile_)
    throw Error("--precision bf16 needs the compiled (oneDNN) forward pass");
  std::sort(taps_.begin(), taps_.end());
  taps_.erase(std::unique(taps_.begin(), taps_.end()), taps_.end());
  if (compile_ && !taps_.empty() && PlanEngine::available())
    plan_ =
        std::make_unique<PlanEngine>(detail::stage_specs(net_.stages(), kept_), taps_, precision_);
}

InferenceEngine::~InferenceEngine() = default;

std::string InferenceEngine::bf16_unsupported_reason() {
  return PlanEngine::bf16_unsupported_reason();
}

void InferenceEngine::require(Precision precision) {
  PlanEngine::require(precision);
}

std::map<int, std::vector<int64_t>> InferenceEngine::tap_shapes(int64_t n, int64_t height,
                                                                int64_t width) {
  std::map<int, std::vector<int64_t>> out;
  if (plan_) {
    out = plan_->tap_shapes(n, height, width);
    if (!out.empty()) return out;
  }
  // Not (all) compiled: a forward pass of one zero image through torch.
  const auto shapes =
      net_.layer_shapes(static_cast<int>(width), static_cast<int>(height), taps_.back());
  for (int t : taps_) out[t] = shapes[static_cast<size_t>(t)];
  return out;
}

std::map<int, torch::Tensor> InferenceEngine::forward(const torch::Tensor& input) {
  const bool plan_fits = plan_ && !torch::GradMode::is_enabled() && input.is_cpu() &&
                         input.dim() == 4 && input.scalar_type() == torch::kFloat;
  if (!plan_fits) {
    compiled_stages_ = 0;
    return net_.forward_taps(input, taps_);
  }
  const FloatArray batch = detail::float_view(input);
  compiled_stages_ = plan_->covered(batch.shape);
  if (compiled_stages_ == 0) return net_.forward_taps(input, taps_);
  std::map<int, torch::Tensor> out;
  for (const auto& [stage, map] : plan_->forward(batch)) out[stage] = detail::tensor_view(map);
  const int last = taps_.back();
  if (compiled_stages_ > last) return out;
  // The rest (global pooling, fully connected layers) through torch, from the plan's last output.
  torch::NoGradGuard no_grad;
  torch::Tensor x = out.at(compiled_stages_ - 1);
  if (!std::binary_search(taps_.begin(), taps_.end(), compiled_stages_ - 1))
    out.erase(compiled_stages_ - 1);
  for (int i = compiled_stages_; i <= last; ++i) {
    x = net_.forward_range(x, i, i);
    if (std::binary_search(taps_.begin(), taps_.end(), i)) out[i] = x;
  }
  return out;
}

}  // namespace ishannot
