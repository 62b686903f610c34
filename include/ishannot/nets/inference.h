#pragma once
// InferenceEngine: a backbone's forward pass for feature extraction: the torch-free PlanEngine
// (infer/plan_engine.h: oneDNN primitives compiled once per input shape, fused, blocked layouts,
// weights reordered once and kept on disk) over the backbone's stages, the stages a plan does
// not cover (global pooling, fully connected) through libtorch. Same taps as
// Backbone::forward_taps (the reference it is tested against) to float rounding; 1.5-1.7x faster on
// one core (docs/bench/extract.md).
//
// The engine copies the weights when it first sees a shape: build a new engine after changing
// them (fine-tuning). It runs on the CPU without autograd; anything else (a CUDA input, gradients
// enabled, no oneDNN CPU engine) goes through Backbone::forward_taps.
#include <torch/types.h>

#include <map>
#include <memory>
#include <vector>

#include "ishannot/features/precision.h"
#include "ishannot/infer/plan_engine.h"

namespace ishannot {

class Backbone;

class InferenceEngine {
 public:
  /// `net` must outlive the engine. `taps`: stage indices (Backbone::resolve_layers).
  /// compile = false runs every batch through Backbone::forward_taps (for comparisons).
  /// Precision::kBf16 runs the compiled plan in bfloat16 (features/precision.h; batches that
  /// cannot take the plan — gradients enabled, a CUDA input — run fp32 through torch); the
  /// constructor throws require()'s Error on a CPU without bf16 arithmetic.
  InferenceEngine(Backbone& net, std::vector<int> taps, bool compile = true,
                  Precision precision = Precision::kFp32);
  ~InferenceEngine();
  InferenceEngine(const InferenceEngine&) = delete;
  InferenceEngine& operator=(const InferenceEngine&) = delete;

  /// Tap outputs (plain contiguous tensors) for a preprocessed N x 3 x H x W float batch, as
  /// Backbone::to_input makes it.
  std::map<int, torch::Tensor> forward(const torch::Tensor& input);

  /// Per image shapes (C, H, W, or C for vectors) of the taps for an N x 3 x height x width
  /// input, without running it: compiles the plan for that shape (which forward() then reuses).
  /// Throws Error when the input is too small for the network.
  std::map<int, std::vector<int64_t>> tap_shapes(int64_t n, int64_t height, int64_t width);

  /// Stages [0, compiled_stages()) of the last forward ran in oneDNN (0: all through torch).
  int compiled_stages() const { return compiled_stages_; }

  Precision precision() const { return precision_; }

  /// "" when this CPU runs bf16 convolutions natively, else why not, in one phrase
  /// (ISHANNOT_CPU_NO_BF16=1 simulates a CPU without them).
  static std::string bf16_unsupported_reason();
  /// Nothing for kFp32, or kBf16 where supported; else Error "--precision bf16: WHY; use fp32".
  /// Commands call it before any work, the constructor again.
  static void require(Precision precision);

 private:
  Backbone& net_;
  std::vector<int> taps_;
  bool compile_;
  Precision precision_;
  int compiled_stages_ = 0;
  std::vector<torch::Tensor> kept_;   // contiguous copies of weights that were not
  std::unique_ptr<PlanEngine> plan_;  // null when not compiling
};

}  // namespace ishannot
