// PlanEngine (include/ishannot/infer/plan_engine.h): one OnednnPlan per input shape.
#include "ishannot/infer/plan_engine.h"

#include <algorithm>

#include "infer/onednn_plan.h"
#include "infer/plan_weights.h"
#include "ishannot/common/assert.h"
#include "ishannot/common/error.h"
#include "ishannot/infer/prepared_weights.h"

namespace ishannot {

namespace {
// A run extracts at one size and one batch size (short batches are padded); more shapes than
// this means the caller varies sizes, and old plans are dropped.
constexpr size_t kMaxPlans = 4;
}  // namespace

PlanEngine::PlanEngine(std::vector<StageSpec> stages, std::vector<int> taps, Precision precision)
    : stages_(std::move(stages)), taps_(std::move(taps)), precision_(precision) {
  require(precision_);
  std::sort(taps_.begin(), taps_.end());
  taps_.erase(std::unique(taps_.begin(), taps_.end()), taps_.end());
  ISHANNOT_ASSERT(!taps_.empty() && taps_.back() < static_cast<int>(stages_.size()),
                  "taps within the network");
}

PlanEngine::~PlanEngine() = default;

bool PlanEngine::available() {
  return detail::OnednnPlan::available();
}

std::string PlanEngine::bf16_unsupported_reason() {
  return detail::OnednnPlan::bf16_unsupported_reason();
}

void PlanEngine::require(Precision precision) {
  if (precision != Precision::kBf16) return;
  const std::string why = bf16_unsupported_reason();
  if (!why.empty()) throw Error("--precision bf16: " + why + "; use fp32");
}

detail::OnednnPlan& PlanEngine::plan_for(const std::vector<int64_t>& shape) {
  auto it = plans_.find(shape);
  if (it == plans_.end()) {
    if (plans_.size() >= kMaxPlans) plans_.clear();
    if (!plan_weights_) {
      const std::string dir = weights_cache_dir();
      plan_weights_ = std::make_shared<detail::PlanWeights>(dir.empty() ? "" : dir + "/layouts");
    }
    it = plans_
             .emplace(shape, std::make_unique<detail::OnednnPlan>(stages_, taps_, shape, precision_,
                                                                  plan_weights_))
             .first;
  }
  return *it->second;
}

int PlanEngine::covered(const std::vector<int64_t>& shape) {
  return plan_for(shape).covered();
}

std::map<int, std::vector<int64_t>> PlanEngine::tap_shapes(int64_t n, int64_t height,
                                                           int64_t width) {
  const detail::OnednnPlan& plan = plan_for({n, 3, height, width});
  std::map<int, std::vector<int64_t>> out;
  if (plan.covered() <= taps_.back()) return out;
  for (int t : taps_) {
    const std::vector<int64_t> shape = plan.output_shape(t);
    out[t].assign(shape.begin() + 1, shape.end());
  }
  return out;
}

TapMaps PlanEngine::forward(const FloatArray& input, int64_t images) {
  ISHANNOT_ASSERT(input.shape.size() == 4 && input.data, "an N x 3 x H x W batch");
  return plan_for(input.shape).run(input.data, images);
}

}  // namespace ishannot
