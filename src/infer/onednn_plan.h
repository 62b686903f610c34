#pragma once
// Internal: a network's inference forward pass compiled into oneDNN primitives for one input
// shape (infer/plan_engine.h keeps one plan per shape). Torch-free: it reads the stages as plain
// data (infer/network.h StageSpec), so the warm extract path never loads libtorch.
//
// What it saves over the stage-by-stage torch path (Backbone::forward_taps):
//  - each convolution carries its bias, its ReLU and, in a ResNet block, the residual sum and the
//    block's final ReLU as oneDNN post-ops: one pass over the output instead of three;
//  - activations stay in one layout from layer to layer; only the input and the taps are reordered
//    (to and from plain NCHW). On AVX-512 CPUs that layout is channel blocks of 16 (nChw16c,
//    blocked_activations()): oneDNN 2.6's kernels for it implement every layer, Winograd's
//    among them, with no reorder in between, and a ResNet50 extraction at 320x128 ran ~6-7 %
//    faster on 1 CPU in them than in the channels-last layout oneDNN's brgconv kernels choose
//    (tag::any, which had a reorder before and after every Winograd convolution:
//    docs/BENCHMARKS.md, stop 30). Elsewhere, and for bf16 on AMX, oneDNN chooses;
//  - with ISHANNOT_CONV_ALGORITHM=winograd, fp32 3x3 stride-1 convolutions (ResNet50's bottleneck
//    middles, VGG16's) run oneDNN's Winograd algorithm where it implements them (AVX-512): ~4x
//    fewer multiplications in those layers, ~1.2-1.3x the whole forward pass on one core,
//    features within ~2e-6 relative of direct convolution (docs/BENCHMARKS.md). Opt-in: its
//    results are the same bits from process to process, but a second engine in one process
//    with several threads was seen to differ by ~1e-6 relative (cause not found), where direct
//    convolution is bitwise reproducible everywhere;
//  - weights are reordered into the convolutions' preferred layout once per engine and layout,
//    and kept on disk between processes (plan_weights.h: Winograd's reorder alone costs ~0.5 s);
//  - buffers are allocated once and reused by later layers (an identity block sums in place);
//  - the tap maps run() returns come from a FloatArrayPool: once the caller drops a batch's
//    maps, the next batch's are written into the same memory (a fresh 5 MB map met first touches
//    of 2 MB pages, 3-5 ms each on the VMs of docs/BENCHMARKS.md, in a third of the batches);
//  - the head (the first stages, as long as a stage's weights are fewer than one image's input
//    values: ResNet50 up to res3d, VGG16's first blocks) runs 2 images at a time (1 for an odd
//    batch), once per pair, into its slice of the buffer the rest of the plan reads as one batch:
//    a pair's activations stay in the caches from layer to layer where a batch of 8 at 320x128
//    (21 MB per res2 tensor) streams through memory; the later stages, whose weights dominate,
//    run the whole batch. No kernel mixes images: an image's results do not depend on the other
//    images of its batch or its place there (tested, direct and Winograd); with direct
//    convolution they are also the same bits as without the head, with Winograd in nChw16c not
//    (a pair's Winograd sums in another order than a batch of 8's; seen at res3d and res4f,
//    within the torch path's 1e-5 either way); ~5-7 % of the forward pass at 320x128
//    (docs/BENCHMARKS.md, stop 29).
//    ISHANNOT_PLAN_HEAD_BATCH=K sets K images per run instead (0: no head), for measurements;
//  - with Precision::kBf16, activations and weights are bfloat16 between layers (convolutions
//    accumulate in float32, biases stay float32); the input is converted by the first reorder and
//    the taps come back float32.
// Stages the plan does not cover (global average pool, fully connected) are left to the caller:
// covered() says where the plan stops, and run() returns that stage's output as well.
#include <map>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <vector>

#include "infer/plan_weights.h"
#include "ishannot/features/precision.h"
#include "ishannot/infer/network.h"

namespace ishannot::detail {

class OnednnPlan {
 public:
  /// Compiles stages [0, last] of `stages` (as far as they are convertible) for an input of
  /// `input_shape` = {N, C, H, W}, reading the outputs of `taps` (sorted stage indices). Throws
  /// Error when the input is too small for a convolution or pooling window. kBf16 needs a CPU
  /// with bf16 arithmetic (bf16_unsupported_reason() == "").
  /// `shared_weights`: where reordered weights come from and stay (an engine's plans share one);
  /// nullptr: a store of this plan's own, in memory only.
  OnednnPlan(const std::vector<StageSpec>& stages, const std::vector<int>& taps,
             const std::vector<int64_t>& input_shape, Precision precision = Precision::kFp32,
             std::shared_ptr<PlanWeights> shared_weights = nullptr);
  OnednnPlan(const OnednnPlan&) = delete;
  OnednnPlan& operator=(const OnednnPlan&) = delete;
  ~OnednnPlan();

  /// Stages [0, covered()) run inside the plan.
  int covered() const { return covered_; }

  /// Images per run of the plan's head (0: no head; see the header comment).
  int64_t head_batch() const { return head_batch_; }

  /// Shape (N, C, H, W) of what run() returns for `stage` (a covered tap); empty if none.
  std::vector<int64_t> output_shape(int stage) const;

  /// Runs the plan on `input`: contiguous float NCHW of the planned shape. Returns the taps the
  /// plan covers (plain contiguous NCHW arrays, freshly allocated) and, when covered() < the last
  /// stage needed, the output of stage covered() - 1 under the key covered() - 1 as well.
  /// `images` < N: the images from `images` on are padding, their outputs unspecified: the head
  /// skips the runs that hold only padding (zeros take their place in the head's output).
  TapMaps run(const float* input, int64_t images = -1);

  /// True when oneDNN can run on this CPU (the plan needs at least SSE4.1; always true on x86-64
  /// machines this project supports, false where the library reports no CPU engine).
  static bool available();

  /// "" when oneDNN runs bf16 convolutions natively here (its effective ISA includes
  /// AVX512-BF16 or AMX), else why not, in one phrase. ISHANNOT_CPU_NO_BF16=1 in the environment
  /// makes it answer as on a CPU without them (to test the refusal).
  static std::string bf16_unsupported_reason();

  /// True when ISHANNOT_CONV_ALGORITHM=winograd (opt-in: see the header comment).
  static bool winograd_enabled();
  /// Whether plans of `precision` ask their convolutions for activations in channel blocks of 16
  /// (nChw16c) rather than the layout oneDNN prefers (channels-last, for its brgconv kernels):
  /// on AVX-512 CPUs, for fp32, and for bf16 without AMX (whose kernels are channels-last only).
  /// ISHANNOT_PLAN_LAYOUT=blocked|any decides instead, for measurements.
  static bool blocked_activations(Precision precision);

 private:
  struct Value;
  struct Step;
  struct Output;

  int new_buffer(size_t bytes);
  void release(int buffer);
  Value reorder_to(const Value& value, const dnnl::memory::desc& desc);
  Value add_conv(const Value& src, const ConvSpec& conv, bool relu, const Value* sum_into);
  dnnl::memory::format_tag activation_tag(int64_t channels) const;
  Value add_max_pool(const Value& src, const StageSpec& pool);
  Value add_relu(const Value& src);
  void add_output(int stage, const Value& value);
  Value join_head(const Value& value);
  char* joined_base() const {
    return reinterpret_cast<char*>(buffers_[static_cast<size_t>(joined_)].get());
  }
  dnnl::memory memory_of(const Value& value) const;
  void run_head(const float* input, int64_t images, dnnl::stream& stream);

  dnnl::engine engine_;
  std::shared_ptr<PlanWeights> shared_weights_;
  std::vector<std::unique_ptr<float[], void (*)(float*)>> buffers_;
  std::vector<size_t> buffer_bytes_;
  std::vector<bool> buffer_free_;
  std::vector<size_t> buffer_since_;  // the step at which the buffer was last handed out
  std::vector<Step> steps_;
  std::vector<Output> outputs_;
  // run()'s tap maps: the same pages batch after batch, for 4 batches in flight (an extraction's
  // queue of 2, one being written, one being made).
  std::unique_ptr<FloatArrayPool> output_pool_;
  std::vector<dnnl::memory> weights_;  // from shared_weights_, and the biases
  dnnl::memory input_;                 // plain NCHW, handle set per run
  std::vector<int64_t> input_shape_;
  int64_t head_batch_ = 0;    // images per run of the head's steps; 0: no head
  size_t head_steps_ = 0;     // steps_[0, head_steps_) run input_shape_[0] / head_batch_ times
  int joined_ = -1;           // the buffer of the head's output (join_head), if any
  size_t joined_stride_ = 0;  // its bytes per run of the head
  dnnl::memory::data_type activations_;  // f32, or bf16 with Precision::kBf16
  bool blocked_ = false;                 // activations in nChw16c (blocked_activations)
  int covered_ = 0;
};

}  // namespace ishannot::detail
