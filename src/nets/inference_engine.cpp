// InferenceEngine: one OnednnPlan per input shape; the stages a plan does not cover run through
// the backbone's torch modules.
#include "ishannot/nets/inference.h"

#include <torch/torch.h>

#include <algorithm>

#include "ishannot/common/error.h"
#include "ishannot/nets/backbone.h"
#include "ishannot/nets/weights_cache.h"
#include "nets/onednn_plan.h"
#include "nets/plan_weights.h"

namespace ishannot {

namespace {
// A run extracts at one size (two batch sizes: full and last); more shapes than this means the
// caller varies sizes, and old plans (each holding a copy of the weights) are dropped.
constexpr size_t kMaxPlans = 4;
}  // namespace

InferenceEngine::InferenceEngine(Backbone& net, std::vector<int> taps, bool compile,
                                 Precision precision)
    : net_(net), taps_(std::move(taps)), compile_(compile), precision_(precision) {
  require(precision_);
  if (precision_ == Precision::kBf16 && !compile_)
    throw Error("--precision bf16 needs the compiled (oneDNN) forward pass");
  std::sort(taps_.begin(), taps_.end());
  taps_.erase(std::unique(taps_.begin(), taps_.end()), taps_.end());
}

InferenceEngine::~InferenceEngine() = default;

std::string InferenceEngine::bf16_unsupported_reason() {
  return detail::OnednnPlan::bf16_unsupported_reason();
}

void InferenceEngine::require(Precision precision) {
  if (precision != Precision::kBf16) return;
  const std::string why = bf16_unsupported_reason();
  if (!why.empty()) throw Error("--precision bf16: " + why + "; use fp32");
}

detail::OnednnPlan& InferenceEngine::plan_for(const std::vector<int64_t>& shape) {
  auto it = plans_.find(shape);
  if (it == plans_.end()) {
    if (plans_.size() >= kMaxPlans) plans_.clear();
    if (!plan_weights_) {
      const std::string dir = weights_cache_dir();
      plan_weights_ = std::make_shared<detail::PlanWeights>(dir.empty() ? "" : dir + "/layouts");
    }
    it = plans_
             .emplace(shape, std::make_unique<detail::OnednnPlan>(net_.stages(), taps_, shape,
                                                                  precision_, plan_weights_))
             .first;
  }
  return *it->second;
}

std::map<int, std::vector<int64_t>> InferenceEngine::tap_shapes(int64_t n, int64_t height,
                                                                int64_t width) {
  std::map<int, std::vector<int64_t>> out;
  if (compile_ && !taps_.empty() && detail::OnednnPlan::available()) {
    const detail::OnednnPlan& plan = plan_for({n, 3, height, width});
    if (plan.covered() > taps_.back()) {
      for (int t : taps_) {
        const std::vector<int64_t> shape = plan.output_shape(t);
        out[t].assign(shape.begin() + 1, shape.end());
      }
      return out;
    }
  }
  // Not (all) compiled: a forward pass of one zero image through torch.
  const auto shapes =
      net_.layer_shapes(static_cast<int>(width), static_cast<int>(height), taps_.back());
  for (int t : taps_) out[t] = shapes[static_cast<size_t>(t)];
  return out;
}

std::map<int, torch::Tensor> InferenceEngine::forward(const torch::Tensor& input) {
  const bool plan_fits = compile_ && !taps_.empty() && !torch::GradMode::is_enabled() &&
                         input.is_cpu() && input.dim() == 4 &&
                         input.scalar_type() == torch::kFloat && detail::OnednnPlan::available();
  if (!plan_fits) {
    compiled_stages_ = 0;
    return net_.forward_taps(input, taps_);
  }
  detail::OnednnPlan& plan = plan_for({input.sizes().begin(), input.sizes().end()});
  compiled_stages_ = plan.covered();
  if (plan.covered() == 0) return net_.forward_taps(input, taps_);
  std::map<int, torch::Tensor> out = plan.run(input.contiguous());
  const int last = taps_.back();
  if (plan.covered() > last) return out;
  // The rest (global pooling, fully connected layers) through torch, from the plan's last output.
  torch::NoGradGuard no_grad;
  torch::Tensor x = out.at(plan.covered() - 1);
  if (!std::binary_search(taps_.begin(), taps_.end(), plan.covered() - 1))
    out.erase(plan.covered() - 1);
  for (int i = plan.covered(); i <= last; ++i) {
    x = net_.forward_range(x, i, i);
    if (std::binary_search(taps_.begin(), taps_.end(), i)) out[i] = x;
  }
  return out;
}

}  // namespace ishannot
