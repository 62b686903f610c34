// OnednnPlan: stages -> oneDNN primitives (fused post-ops, blocked layouts kept between layers,
// weights reordered once, buffers reused). See detail/onednn_plan.h.
#include "infer/onednn_plan.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <unordered_map>

#include "ishannot/common/assert.h"
#include "ishannot/common/error.h"

namespace ishannot::detail {

using dnnl::memory;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

struct OnednnPlan::Value {
  memory::desc desc;
  int buffer = -1;  ///< index into buffers_; -1 = the caller's input tensor
};

struct OnednnPlan::Step {
  dnnl::primitive primitive;
  std::unordered_map<int, memory> args;
  /// A head step's arguments in the head's output buffer (joined_), pointed at the run's slice
  /// before each execution.
  std::vector<int> moving;
};

struct OnednnPlan::Output {
  int stage = 0;
  std::vector<int64_t> shape;  ///< N, C, H, W
  memory plain;                ///< NCHW, pointed at a fresh array on every run
  size_t stride = 0;           ///< an output of the head: bytes per run of the head (else 0)
  char* base = nullptr;        ///< this run's array
};

namespace {

void free_floats(float* p) {
  std::free(p);
}

// Output size of a convolution or pooling window as torch and Keras compute it (floor mode), and
// the right padding oneDNN needs to produce exactly that size.
int64_t output_size(int64_t in, int64_t kernel, int64_t stride, int64_t padding) {
  const int64_t out = in + 2 * padding >= kernel ? (in + 2 * padding - kernel) / stride + 1 : 0;
  if (out < 1)
    throw Error("the input is too small: a " + std::to_string(kernel) + "x" +
                std::to_string(kernel) + " window does not fit a side of " + std::to_string(in));
  return out;
}
int64_t right_padding(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding) {
  return (out - 1) * stride + kernel - in - padding;
}

int64_t weight_count(const ConvSpec& conv) {
  return conv.out * conv.in * conv.kernel * conv.kernel;
}
int64_t weight_count(const StageSpec& stage) {
  if (stage.kind == StageSpec::Kind::kConv) return weight_count(stage.conv);
  if (stage.kind != StageSpec::Kind::kBottleneck) return 0;
  return weight_count(stage.a) + weight_count(stage.b) + weight_count(stage.c) +
         (stage.projection ? weight_count(*stage.projection) : 0);
}

// A stage belongs to the head when its weights are fewer than one image's input values: its
// activations, not its weights, are what a batch streams through the caches.
bool head_stage(const StageSpec& stage, const memory::dims& input) {
  return weight_count(stage) < input[1] * input[2] * input[3];
}

// Images per run of the head for a batch of n (0: no head): 2 where n is even, else 1.
// ISHANNOT_PLAN_HEAD_BATCH overrides it (0: none), for measurements.
int64_t head_batch_for(int64_t n) {
  int64_t head = n % 2 == 0 ? 2 : 1;
  if (const char* env = std::getenv("ISHANNOT_PLAN_HEAD_BATCH")) head = std::atoll(env);
  return head > 0 && head < n && n % head == 0 ? head : 0;
}

// `desc` (N outermost: plain or channel-blocked) for `n` images instead of its own N; a zero
// descriptor for any other layout.
memory::desc with_batch(const memory::desc& desc, int64_t n) {
  memory::dims dims = desc.dims();
  if (dims.size() != 4) return {};
  for (const tag t : {tag::abcd, tag::acdb, tag::aBcd16b, tag::aBcd8b, tag::aBcd4b}) {
    if (memory::desc(dims, desc.data_type(), t) != desc) continue;
    dims[0] = n;
    return memory::desc(dims, desc.data_type(), t);
  }
  return {};
}

float* aligned_floats(size_t& bytes) {
  bytes = (bytes + 63) / 64 * 64;
  auto* p = static_cast<float*>(std::aligned_alloc(64, bytes));
  if (!p) throw std::bad_alloc();
  return p;
}

}  // namespace

bool OnednnPlan::available() {
  return dnnl::engine::get_count(dnnl::engine::kind::cpu) > 0;
}

std::string OnednnPlan::bf16_unsupported_reason() {
  const char* simulate = std::getenv("ISHANNOT_CPU_NO_BF16");
  if (simulate && std::string(simulate) == "1")
    return "this CPU has no bf16 arithmetic (AVX512-BF16 or AMX; simulated by "
           "ISHANNOT_CPU_NO_BF16=1)";
  if (!available()) return "oneDNN has no CPU engine here";
  const dnnl::cpu_isa isa = dnnl::get_effective_cpu_isa();
  if (isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx) return "";
  return "this CPU has no bf16 arithmetic (AVX512-BF16 or AMX; oneDNN's ISA here is below "
         "avx512_core_bf16)";
}

bool OnednnPlan::blocked_activations(Precision precision) {
  if (const char* env = std::getenv("ISHANNOT_PLAN_LAYOUT")) return std::string(env) == "blocked";
  using isa = dnnl::cpu_isa;
  switch (dnnl::get_effective_cpu_isa()) {
    case isa::avx512_core:
    case isa::avx512_core_vnni:
    case isa::avx512_core_bf16:
      return true;
    case isa::avx512_core_amx:  // AMX's bf16 kernels take channels-last only
      return precision == Precision::kFp32;
    default:
      return false;
  }
}

bool OnednnPlan::winograd_enabled() {
  const char* algorithm = std::getenv("ISHANNOT_CONV_ALGORITHM");
  return algorithm && std::string(algorithm) == "winograd";
}

OnednnPlan::~OnednnPlan() = default;

int OnednnPlan::new_buffer(size_t bytes) {
  int best = -1;
  for (size_t i = 0; i < buffers_.size(); ++i) {
    if (buffer_free_[i] && buffer_bytes_[i] >= bytes &&
        (best < 0 || buffer_bytes_[i] < buffer_bytes_[static_cast<size_t>(best)]))
      best = static_cast<int>(i);
  }
  if (best >= 0) {
    buffer_free_[static_cast<size_t>(best)] = false;
    buffer_since_[static_cast<size_t>(best)] = steps_.size();
    return best;
  }
  size_t rounded = bytes;
  buffers_.emplace_back(aligned_floats(rounded), &free_floats);
  buffer_bytes_.push_back(rounded);
  buffer_free_.push_back(false);
  buffer_since_.push_back(steps_.size());
  return static_cast<int>(buffers_.size() - 1);
}

void OnednnPlan::release(int buffer) {
  if (buffer >= 0) buffer_free_[static_cast<size_t>(buffer)] = true;
}

memory OnednnPlan::memory_of(const Value& value) const {
  if (value.buffer < 0) return input_;
  return memory(value.desc, engine_, buffers_[static_cast<size_t>(value.buffer)].get());
}

OnednnPlan::Value OnednnPlan::reorder_to(const Value& value, const memory::desc& desc) {
  Value out{desc, new_buffer(desc.get_size())};
  memory src = memory_of(value), dst = memory_of(out);
  steps_.push_back({dnnl::reorder(src, dst), {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, dst}}, {}});
  return out;
}

// A convolution with its bias; `relu` and `sum_into` become post-ops (dst = relu(conv(src) +
// dst), dst holding the shortcut). With sum_into, the result lives in sum_into's buffer (or a
// reordered copy of it when the convolution prefers another layout).
OnednnPlan::Value OnednnPlan::add_conv(const Value& src, const ConvSpec& conv, bool relu,
                                       const Value* sum_into) {
  ISHANNOT_ASSERT(conv.weight && conv.kernel > 0, "a convolution with weights");
  const memory::dims in = src.desc.dims();
  const int64_t o = conv.out, k = conv.kernel, s = conv.stride, p = conv.padding;
  ISHANNOT_ASSERT(conv.in == in[1], "the convolution's input channels");
  const int64_t oh = output_size(in[2], k, s, p), ow = output_size(in[3], k, s, p);
  const memory::dims w_dims = {o, in[1], k, k}, dst_dims = {in[0], o, oh, ow};
  dnnl::post_ops post;
  if (sum_into) post.append_sum(1.0f);
  if (relu) post.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
  dnnl::primitive_attr attr;
  attr.set_post_ops(post);
  // Rows and columns may need different right paddings (non-square inputs).
  const memory::dims pad_r = {right_padding(in[2], oh, k, s, p), right_padding(in[3], ow, k, s, p)};
  auto make_pd = [&](dnnl::algorithm algorithm) {
    const dnnl::convolution_forward::desc desc(
        dnnl::prop_kind::forward_inference, algorithm,
        memory::desc(in, activations_, activation_tag(in[1])),
        memory::desc(w_dims, activations_, tag::any), memory::desc({o}, dt::f32, tag::x),
        memory::desc(dst_dims, activations_, activation_tag(o)), {s, s}, {p, p}, pad_r);
    return dnnl::convolution_forward::primitive_desc(desc, attr, engine_);
  };
  dnnl::convolution_forward::primitive_desc pd;
  bool winograd = false;
  if (k == 3 && s == 1 && activations_ == dt::f32 && winograd_enabled()) {
    try {
      pd = make_pd(dnnl::algorithm::convolution_winograd);
      winograd = true;
    } catch (const dnnl::error&) {  // not implemented for this shape or CPU
    }
  }
  if (!winograd) pd = make_pd(dnnl::algorithm::convolution_direct);

  // Weights in the primitive's layout from the engine's shared store (plan_weights.h); the bias
  // copied, owned by the plan.
  memory weights =
      shared_weights_->get(conv.weight, conv.weight_hash, w_dims, pd.weights_desc(), engine_);
  weights_.push_back(weights);
  memory bias(pd.bias_desc(), engine_);
  if (conv.bias)
    std::memcpy(bias.get_data_handle(), conv.bias, static_cast<size_t>(o) * 4);
  else
    std::memset(bias.get_data_handle(), 0, static_cast<size_t>(o) * 4);
  weights_.push_back(bias);

  Value input = src;
  const bool input_reordered = src.desc != pd.src_desc();
  if (input_reordered) input = reorder_to(src, pd.src_desc());
  Value dst;
  if (sum_into) {
    dst = *sum_into;
    if (dst.desc != pd.dst_desc() || dst.buffer < 0) {
      dst = reorder_to(*sum_into, pd.dst_desc());
      release(sum_into->buffer);
    }
  } else {
    dst = Value{pd.dst_desc(), new_buffer(pd.dst_desc().get_size())};
  }
  steps_.push_back({dnnl::convolution_forward(pd),
                    {{DNNL_ARG_SRC, memory_of(input)},
                     {DNNL_ARG_WEIGHTS, weights},
                     {DNNL_ARG_BIAS, bias},
                     {DNNL_ARG_DST, memory_of(dst)}},
                    {}});
  if (input_reordered) release(input.buffer);
  return dst;
}

memory::format_tag OnednnPlan::activation_tag(int64_t channels) const {
  return blocked_ && channels % 16 == 0 ? tag::nChw16c : tag::any;
}

OnednnPlan::Value OnednnPlan::add_max_pool(const Value& src, const StageSpec& pool) {
  const memory::dims in = src.desc.dims();
  const int64_t k = pool.kernel, s = pool.stride, p = pool.padding;
  const int64_t oh = output_size(in[2], k, s, p), ow = output_size(in[3], k, s, p);
  const dnnl::pooling_forward::desc desc(
      dnnl::prop_kind::forward_inference, dnnl::algorithm::pooling_max, src.desc,
      memory::desc({in[0], in[1], oh, ow}, src.desc.data_type(), tag::any), {s, s}, {k, k}, {p, p},
      {right_padding(in[2], oh, k, s, p), right_padding(in[3], ow, k, s, p)});
  const dnnl::pooling_forward::primitive_desc pd(desc, engine_);
  Value dst{pd.dst_desc(), new_buffer(pd.dst_desc().get_size())};
  steps_.push_back({dnnl::pooling_forward(pd),
                    {{DNNL_ARG_SRC, memory_of(src)}, {DNNL_ARG_DST, memory_of(dst)}},
                    {}});
  return dst;
}

OnednnPlan::Value OnednnPlan::add_relu(const Value& src) {
  // In place, except on the caller's input.
  Value dst = src.buffer >= 0 ? src : Value{src.desc, new_buffer(src.desc.get_size())};
  const dnnl::eltwise_forward::desc desc(dnnl::prop_kind::forward_inference,
                                         dnnl::algorithm::eltwise_relu, src.desc, 0.0f, 0.0f);
  const dnnl::eltwise_forward::primitive_desc pd(desc, engine_);
  steps_.push_back({dnnl::eltwise_forward(pd),
                    {{DNNL_ARG_SRC, memory_of(src)}, {DNNL_ARG_DST, memory_of(dst)}},
                    {}});
  return dst;
}

void OnednnPlan::add_output(int stage, const Value& value) {
  const memory::dims dims = value.desc.dims();
  Output out;
  out.stage = stage;
  out.shape.assign(dims.begin(), dims.end());
  const memory::desc plain(dims, dt::f32, dims.size() == 4 ? tag::nchw : tag::nc);
  if (dims[0] != input_shape_[0]) {  // in the head: one slice of the output per run
    out.shape[0] = input_shape_[0];
    out.stride = plain.get_size();
  }
  out.plain = memory(plain, engine_, DNNL_MEMORY_NONE);
  memory src = memory_of(value);
  steps_.push_back(
      {dnnl::reorder(src, out.plain), {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, out.plain}}, {}});
  outputs_.push_back(std::move(out));
}

// The head's output `value` (head_batch_ images) as the whole batch: a buffer of one slice per
// run of the head, which the steps of `value`'s buffer since it was handed out (the block chain
// that sums into it in place) write instead, each run its slice; the rest of the plan reads all
// slices as one batch. The buffer's earlier tenants keep it, one slice, reused by every run.
OnednnPlan::Value OnednnPlan::join_head(const Value& value) {
  const int64_t n = input_shape_[0];
  Value v = value;
  memory::desc whole = with_batch(v.desc, n);
  if (whole.is_zero() || v.buffer < 0) {  // a layout without N outermost: made channels-last
    v = reorder_to(value, memory::desc(value.desc.dims(), value.desc.data_type(), tag::acdb));
    release(value.buffer);
    whole = with_batch(v.desc, n);
  }
  const auto b = static_cast<size_t>(v.buffer);
  const size_t stride = v.desc.get_size(), runs = static_cast<size_t>(n / head_batch_);
  ISHANNOT_ASSERT(whole.get_size() == runs * stride, "the head's output, batch outermost");
  size_t bytes = (runs - 1) * stride + buffer_bytes_[b];
  buffers_.emplace_back(aligned_floats(bytes), &free_floats);
  buffer_bytes_.push_back(bytes);
  buffer_free_.push_back(false);
  buffer_since_.push_back(steps_.size());
  joined_ = static_cast<int>(buffers_.size() - 1);
  joined_stride_ = stride;
  // The steps that used `value`'s buffer since it was handed out move to the new one.
  const void* old = buffers_[b].get();
  for (size_t k = buffer_since_[b]; k < steps_.size(); ++k)
    for (const auto& [arg, mem] : steps_[k].args)
      if (mem.get_data_handle() == old) steps_[k].moving.push_back(arg);
  release(v.buffer);
  return Value{whole, joined_};
}

OnednnPlan::OnednnPlan(const std::vector<StageSpec>& stages, const std::vector<int>& taps,
                       const std::vector<int64_t>& input_shape, Precision precision,
                       std::shared_ptr<PlanWeights> shared_weights)
    : engine_(dnnl::engine::kind::cpu, 0),
      shared_weights_(shared_weights ? std::move(shared_weights)
                                     : std::make_shared<PlanWeights>("")),
      input_shape_(input_shape),
      activations_(precision == Precision::kBf16 ? dt::bf16 : dt::f32),
      blocked_(blocked_activations(precision)) {
  ISHANNOT_ASSERT(!taps.empty() && input_shape.size() == 4, "taps and an N x C x H x W input");
  ISHANNOT_ASSERT(precision == Precision::kFp32 || bf16_unsupported_reason().empty(),
                  "bf16 plan on a CPU without bf16 (InferenceEngine::require checks first)");
  const int last = *std::max_element(taps.begin(), taps.end());
  ISHANNOT_ASSERT(last < static_cast<int>(stages.size()), "tap beyond the last stage");
  auto is_tap = [&](int i) { return std::find(taps.begin(), taps.end(), i) != taps.end(); };
  memory::dims in_dims(input_shape.begin(), input_shape.end());
  head_batch_ = head_batch_for(in_dims[0]);
  if (head_batch_ > 0 && !head_stage(stages[0], in_dims)) head_batch_ = 0;
  if (head_batch_ > 0) in_dims[0] = head_batch_;
  input_ = memory(memory::desc(in_dims, dt::f32, tag::nchw), engine_, DNNL_MEMORY_NONE);
  Value x{input_.get_desc(), -1};
  bool in_head = head_batch_ > 0;
  int i = 0;
  using Kind = StageSpec::Kind;
  for (; i <= last; ++i) {
    const StageSpec& stage = stages[static_cast<size_t>(i)];
    if (in_head && !head_stage(stage, x.desc.dims())) {
      x = join_head(x);
      head_steps_ = steps_.size();
      in_head = false;
    }
    if (stage.kind == Kind::kConv) {
      // A ReLU stage right after an untapped convolution becomes its post-op (VGG16).
      const bool fuse_next = !stage.conv.relu && !is_tap(i) && i < last &&
                             stages[static_cast<size_t>(i + 1)].kind == Kind::kRelu;
      const Value y = add_conv(x, stage.conv, stage.conv.relu || fuse_next, nullptr);
      release(x.buffer);
      x = y;
      if (fuse_next) ++i;
    } else if (stage.kind == Kind::kRelu) {
      x = add_relu(x);
    } else if (stage.kind == Kind::kMaxPool) {
      const Value y = add_max_pool(x, stage);
      release(x.buffer);
      x = y;
    } else if (stage.kind == Kind::kBottleneck) {
      const Value a = add_conv(x, stage.a, true, nullptr);
      const Value b = add_conv(a, stage.b, true, nullptr);
      release(a.buffer);
      Value shortcut = x;
      if (stage.projection) {
        shortcut = add_conv(x, *stage.projection, false, nullptr);
        release(x.buffer);
      }
      x = add_conv(b, stage.c, true, &shortcut);
      release(b.buffer);
    } else {
      break;  // not convertible: the caller runs the rest
    }
    if (is_tap(i)) add_output(i, x);
  }
  covered_ = i;
  if (covered_ <= last && covered_ > 0 && !is_tap(covered_ - 1)) add_output(covered_ - 1, x);
  if (in_head) head_steps_ = steps_.size();
  output_pool_ = std::make_unique<FloatArrayPool>(4 * outputs_.size());
}

std::vector<int64_t> OnednnPlan::output_shape(int stage) const {
  for (const Output& o : outputs_)
    if (o.stage == stage) return o.shape;
  return {};
}

TapMaps OnednnPlan::run(const float* input, int64_t images) {
  ISHANNOT_ASSERT(input != nullptr, "plan input");
  TapMaps out;
  if (covered_ == 0) return out;
  for (Output& o : outputs_) {
    FloatArray t = output_pool_->take(o.shape);
    o.base = reinterpret_cast<char*>(t.data);
    o.plain.set_data_handle(t.data);
    out[o.stage] = std::move(t);
  }
  dnnl::stream stream(engine_);
  if (head_steps_ > 0) {
    run_head(input, images, stream);
  } else {
    input_.set_data_handle(const_cast<float*>(input));
  }
  for (size_t k = head_steps_; k < steps_.size(); ++k)
    steps_[k].primitive.execute(stream, steps_[k].args);
  stream.wait();
  return out;
}

// The head's steps once per head_batch_ images, each run on its slice of the input, of the head's
// outputs and of the buffer it leaves to the rest of the plan.
void OnednnPlan::run_head(const float* input, int64_t images, dnnl::stream& stream) {
  const int64_t all = input_shape_[0] / head_batch_;
  const int64_t runs =
      images >= 0 && images < input_shape_[0] ? (images + head_batch_ - 1) / head_batch_ : all;
  const size_t input_stride = input_.get_desc().get_size();
  auto* in = reinterpret_cast<char*>(const_cast<float*>(input));
  if (runs < all && joined_ >= 0) {  // the skipped slices: zeros, not last batch's values
    std::memset(joined_base() + static_cast<size_t>(runs) * joined_stride_, 0,
                static_cast<size_t>(all - runs) * joined_stride_);
  }
  for (int64_t j = 0; j < runs; ++j) {
    const auto r = static_cast<size_t>(j);
    input_.set_data_handle(in + r * input_stride);
    for (Output& o : outputs_)
      if (o.stride > 0) o.plain.set_data_handle(o.base + r * o.stride);
    char* slice = joined_ >= 0 ? joined_base() + r * joined_stride_ : nullptr;
    for (size_t k = 0; k < head_steps_; ++k) {
      Step& step = steps_[k];
      for (int arg : step.moving) step.args.at(arg).set_data_handle(slice);
      step.primitive.execute(stream, step.args);
    }
  }
}

}  // namespace ishannot::detail
