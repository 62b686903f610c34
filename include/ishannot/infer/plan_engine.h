#pragma once
// PlanEngine: a network's forward pass compiled into oneDNN primitives once per input shape
// (src/infer/onednn_plan.h): each convolution fused with its bias, ReLU and residual sum,
// activations kept in oneDNN's blocked layout between layers, weights reordered once per layout
// and kept on disk under the weights cache (<cache>/prepared/layouts, src/infer/plan_weights.h),
// fp32 3x3 convolutions by Winograd where oneDNN has it and ISHANNOT_CONV_ALGORITHM=winograd asks
// for it. Torch-free. It covers the stages a plan can run (convolutions, ReLU, max-pool,
// bottlenecks) up to the first it cannot (global pooling, fully connected): nets'
// InferenceEngine runs those through libtorch.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ishannot/features/precision.h"
#include "ishannot/infer/float_array.h"
#include "ishannot/infer/network.h"

namespace ishannot {

namespace detail {
class OnednnPlan;
class PlanWeights;
}  // namespace detail

class PlanEngine {
 public:
  /// `stages`: the network (pointers into weights that must outlive the engine); `taps`: sorted
  /// stage indices. Precision::kBf16 runs in bfloat16; require()'s Error on a CPU without it.
  PlanEngine(std::vector<StageSpec> stages, std::vector<int> taps,
             Precision precision = Precision::kFp32);
  ~PlanEngine();
  PlanEngine(const PlanEngine&) = delete;
  PlanEngine& operator=(const PlanEngine&) = delete;

  /// Stages [0, covered(shape)) run in the plan for input `shape` (N, 3, H, W); compiles it.
  /// Throws Error when the input is too small for a convolution or pooling window.
  int covered(const std::vector<int64_t>& shape);
  /// Per-image shapes (C, H, W) of the taps for an n x 3 x height x width input, from the plan
  /// for that shape (compiled here; forward() reuses it). Empty when the plan stops before the
  /// last tap (the caller runs the rest). Error when the input is too small.
  std::map<int, std::vector<int64_t>> tap_shapes(int64_t n, int64_t height, int64_t width);
  /// Runs the plan on a contiguous N x 3 x H x W batch: the covered taps and, when the plan
  /// stops before the last tap, the output of its last stage under that stage's index.
  /// `images` < N: the images from `images` on are padding, their outputs unspecified (the
  /// plan's head skips its runs that hold only padding).
  TapMaps forward(const FloatArray& input, int64_t images = -1);

  Precision precision() const { return precision_; }
  const std::vector<int>& taps() const { return taps_; }

  /// True when oneDNN has a CPU engine here.
  static bool available();
  /// "" when this CPU runs bf16 convolutions natively, else why not, in one phrase
  /// (ISHANNOT_CPU_NO_BF16=1 simulates a CPU without them).
  static std::string bf16_unsupported_reason();
  /// Nothing for kFp32, or kBf16 where supported; else Error "--precision bf16: WHY; use fp32".
  static void require(Precision precision);

 private:
  std::vector<StageSpec> stages_;
  std::vector<int> taps_;
  Precision precision_;
  std::shared_ptr<detail::PlanWeights> plan_weights_;  // the plans' reordered weights (shared)
  std::map<std::vector<int64_t>, std::unique_ptr<detail::OnednnPlan>> plans_;

  detail::OnednnPlan& plan_for(const std::vector<int64_t>& shape);
};

}  // namespace ishannot
