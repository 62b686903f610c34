// The plans' reordered weights (infer/plan_weights.h): shared between plans, written to disk,
// memory-mapped by a later store, rejected and rewritten when a file is corrupt or truncated,
// never read for other weights; and Winograd against direct convolution. The taps of every plan
// are compared with those of a plan whose weights were reordered fresh (bitwise: the same bytes
// in the same layout give the same arithmetic, on one thread) — and the fresh plan itself with the
// torch path.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "infer/onednn_plan.h"
#include "infer/plan_weights.h"
#include "ishannot/image/image.h"
#include "ishannot/nets/inference.h"
#include "nets/stages.h"
#include "support/nets_support.h"
#include "support/torch_support.h"

using namespace ishannot;
using ishannot::detail::OnednnPlan;
using ishannot::detail::PlanWeights;
namespace fs = std::filesystem;

namespace {

torch::Tensor photos(const Backbone& net) {
  std::vector<cv::Mat> images;
  for (const char* f : {"baboon.jpg", "orange.jpg"})
    images.push_back(
        resize_for_network(read_image_bgr(test::photo(f)), 160, 96, ResizePolicy::kSquash));
  return net.to_input(images);
}

torch::Tensor run(Backbone& net, const std::vector<int>& taps, const torch::Tensor& input,
                  const std::shared_ptr<PlanWeights>& weights) {
  std::vector<torch::Tensor> kept;
  OnednnPlan plan(ishannot::detail::stage_specs(net.stages(), kept), taps,
                  {input.size(0), 3, input.size(2), input.size(3)}, Precision::kFp32, weights);
  const torch::Tensor contiguous = input.contiguous();
  const FloatArray out = plan.run(contiguous.data_ptr<float>()).at(taps[0]);
  return torch::from_blob(out.data, out.shape, torch::kFloat).clone();
}

std::vector<fs::path> files_in(const std::string& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST(PlanWeights, SharedWrittenMappedAndRebuiltWhenCorrupt) {
  ISHANNOT_SKIP_WITHOUT_WEIGHTS();
  torch::InferenceMode guard;
  auto net = load_backbone("resnet50", "");
  net->eval();
  const auto taps = net->resolve_layers("res3a");
  const torch::Tensor input = photos(*net);
  const std::string dir = test::temp_dir("plan-weights");
  // One thread: oneDNN's Winograd convolutions are not bitwise reproducible across runs with
  // several threads (~1e-6 relative), and this test compares bits.
  const int threads = torch::get_num_threads();
  torch::set_num_threads(1);

  // Fresh, in memory only: the reference, itself checked against the torch path.
  const torch::Tensor fresh = run(*net, taps, input, std::make_shared<PlanWeights>(""));
  EXPECT_LT(test::relative_error(fresh, net->forward_taps(input, taps).at(taps[0])), 1e-5);

  // First store on the folder: every convolution reordered and written; a second plan (another
  // batch size) of the same store takes what it can from memory.
  auto first = std::make_shared<PlanWeights>(dir);
  EXPECT_TRUE(torch::equal(run(*net, taps, input, first), fresh));
  const int convs = first->stats().reordered;
  EXPECT_GT(convs, 10);
  EXPECT_EQ(first->stats().written, convs);
  EXPECT_EQ(first->stats().loaded, 0);
  EXPECT_EQ(files_in(dir).size(), static_cast<size_t>(convs));
  run(*net, taps, input.slice(0, 0, 1), first);
  EXPECT_GT(first->stats().reused, 0);

  // A new store (a later process): everything from the files, the same taps.
  auto second = std::make_shared<PlanWeights>(dir);
  EXPECT_TRUE(torch::equal(run(*net, taps, input, second), fresh));
  EXPECT_EQ(second->stats().loaded, convs);
  EXPECT_EQ(second->stats().reordered, 0);

  // One file with a flipped payload byte, one truncated: both rejected, reordered, rewritten.
  const auto files = files_in(dir);
  {
    std::fstream f(files[0], std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(-5, std::ios::end);
    char c = 0;
    f.read(&c, 1);
    f.seekp(-5, std::ios::end);
    c = static_cast<char>(c ^ 0x40);
    f.write(&c, 1);
  }
  fs::resize_file(files[1], fs::file_size(files[1]) - 64);
  auto third = std::make_shared<PlanWeights>(dir);
  EXPECT_TRUE(torch::equal(run(*net, taps, input, third), fresh));
  EXPECT_EQ(third->stats().rejected, 2);
  EXPECT_EQ(third->stats().reordered, 2);
  EXPECT_EQ(third->stats().written, 2);
  EXPECT_EQ(third->stats().loaded, convs - 2);
  auto fourth = std::make_shared<PlanWeights>(dir);
  run(*net, taps, input, fourth);
  EXPECT_EQ(fourth->stats().loaded, convs);

  // Other weights (conv1 doubled, as fine-tuning would change it): conv1's file is not read.
  auto& conv1 = dynamic_cast<ishannot::detail::ConvStage&>(*net->stages()[0]);
  conv1.weight.mul_(2);
  auto fifth = std::make_shared<PlanWeights>(dir);
  const torch::Tensor changed = run(*net, taps, input, fifth);
  conv1.weight.div_(2);
  EXPECT_EQ(fifth->stats().reordered, 1);
  EXPECT_EQ(fifth->stats().loaded, convs - 1);
  EXPECT_FALSE(torch::equal(changed, fresh));

  // A budget of four of the largest files: the oldest are removed to make room, never more.
  uintmax_t largest = 0;
  for (const auto& f : files_in(dir)) largest = std::max(largest, fs::file_size(f));
  const std::string small = test::temp_dir("plan-weights-budget");
  auto budgeted = std::make_shared<PlanWeights>(small, 4 * largest);
  EXPECT_TRUE(torch::equal(run(*net, taps, input, budgeted), fresh));
  uintmax_t total = 0;
  for (const auto& f : files_in(small)) total += fs::file_size(f);
  EXPECT_LE(total, 4 * largest);
  EXPECT_GE(files_in(small).size(), 4u);
  EXPECT_EQ(budgeted->stats().written, convs);
  torch::set_num_threads(threads);
}

// A caller that knows the weights' hash (the prepared cache checked it) finds their file without
// PlanWeights reading the weights (a null pointer here); a different hash is other weights.
TEST(PlanWeights, AKnownHashFindsTheFileWithoutReadingTheWeights) {
  const std::string dir = test::temp_dir("plan-weights-hash");
  const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  const dnnl::memory::dims dims = {32, 16, 3, 3};
  std::vector<float> plain(32 * 16 * 9);
  for (size_t i = 0; i < plain.size(); ++i) plain[i] = std::sin(0.37f * static_cast<float>(i));
  const dnnl::memory::desc desc(dims, dnnl::memory::data_type::f32,
                                dnnl::memory::format_tag::OIhw16i16o);
  PlanWeights first(dir);
  const dnnl::memory written = first.get(plain.data(), 0, dims, desc, engine);
  EXPECT_EQ(first.stats().written, 1);
  const uint64_t hash = ishannot::detail::fast_hash(plain.data(), plain.size() * sizeof(float));
  PlanWeights second(dir);
  const dnnl::memory loaded = second.get(nullptr, hash, dims, desc, engine);
  EXPECT_EQ(second.stats().loaded, 1);
  EXPECT_EQ(std::memcmp(written.get_data_handle(), loaded.get_data_handle(), desc.get_size()), 0);
  PlanWeights third(dir);
  third.get(plain.data(), hash ^ 1, dims, desc, engine);
  EXPECT_EQ(third.stats().loaded, 0);
  EXPECT_EQ(third.stats().reordered, 1);
}

namespace {

// ResNet50 with its real weights and res4f of the test photos by the torch path (the reference).
struct Res4fCase {
  std::shared_ptr<Backbone> net;
  std::vector<int> taps;
  torch::Tensor input, reference;
};
Res4fCase res4f_case() {
  Res4fCase c{load_backbone("resnet50", ""), {}, {}, {}};
  c.net->eval();
  c.taps = c.net->resolve_layers("res4f");
  c.input = photos(*c.net);
  c.reference = c.net->forward_taps(c.input, c.taps).at(c.taps[0]);
  return c;
}

}  // namespace

// Winograd (opt-in for fp32 3x3 convolutions where oneDNN has it) and direct convolution
// both give the torch path's taps; on a CPU with bf16 (hence AVX-512, where Winograd runs), not
// the same bits.
TEST(PlanWeights, WinogradAndDirectBothMatchTheTorchPath) {
  ISHANNOT_SKIP_WITHOUT_WEIGHTS();
  torch::InferenceMode guard;
  auto [net, taps, input, reference] = res4f_case();
  EXPECT_FALSE(OnednnPlan::winograd_enabled());  // direct by default
  const torch::Tensor direct = run(*net, taps, input, nullptr);
  setenv("ISHANNOT_CONV_ALGORITHM", "winograd", 1);
  EXPECT_TRUE(OnednnPlan::winograd_enabled());
  const torch::Tensor winograd = run(*net, taps, input, nullptr);
  unsetenv("ISHANNOT_CONV_ALGORITHM");
  EXPECT_LT(test::relative_error(winograd, reference), 1e-5);
  EXPECT_LT(test::relative_error(direct, reference), 1e-5);
  // Every CPU with bf16 arithmetic has AVX-512, where oneDNN has Winograd.
  if (InferenceEngine::bf16_unsupported_reason().empty()) {
    EXPECT_FALSE(torch::equal(winograd, direct)) << "Winograd did not run on an AVX-512 CPU";
  }
}

// The activations' two layouts (channel blocks of 16, the AVX-512 default, and the channels-last
// oneDNN chooses elsewhere), direct and Winograd: each gives the torch path's taps; on an AVX-512
// CPU the two layouts run different kernels, hence not the same bits.
TEST(PlanWeights, BlockedAndChannelsLastLayoutsBothMatchTheTorchPath) {
  ISHANNOT_SKIP_WITHOUT_WEIGHTS();
  torch::InferenceMode guard;
  auto [net, taps, input, reference] = res4f_case();
  const bool avx512_default = OnednnPlan::blocked_activations(Precision::kFp32);
  for (const char* algorithm : {"direct", "winograd"}) {
    setenv("ISHANNOT_CONV_ALGORITHM", algorithm, 1);
    setenv("ISHANNOT_PLAN_LAYOUT", "blocked", 1);
    EXPECT_TRUE(OnednnPlan::blocked_activations(Precision::kBf16));
    const torch::Tensor blocked = run(*net, taps, input, nullptr);
    setenv("ISHANNOT_PLAN_LAYOUT", "any", 1);
    EXPECT_FALSE(OnednnPlan::blocked_activations(Precision::kFp32));
    const torch::Tensor any = run(*net, taps, input, nullptr);
    unsetenv("ISHANNOT_PLAN_LAYOUT");
    unsetenv("ISHANNOT_CONV_ALGORITHM");
    EXPECT_LT(test::relative_error(blocked, reference), 1e-5) << algorithm;
    EXPECT_LT(test::relative_error(any, reference), 1e-5) << algorithm;
    if (avx512_default) {
      EXPECT_FALSE(torch::equal(blocked, any)) << algorithm << ": one layout ran";
    }
  }
}

TEST(PlanWeights, FastHashSeesEveryByte) {
  std::vector<unsigned char> bytes(1000);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<unsigned char>(i * 7);
  for (size_t size : {0, 1, 7, 8, 31, 32, 33, 999, 1000}) {
    const uint64_t h = ishannot::detail::fast_hash(bytes.data(), size);
    EXPECT_EQ(h, ishannot::detail::fast_hash(bytes.data(), size)) << size;
    EXPECT_NE(h, ishannot::detail::fast_hash(bytes.data(), size, 1)) << size;  // the seed counts
    for (size_t i = 0; i < size; ++i) {
      bytes[i] ^= 1;
      EXPECT_NE(h, ishannot::detail::fast_hash(bytes.data(), size)) << size << " " << i;
      bytes[i] ^= 1;
    }
    if (size < bytes.size()) {  // the length counts: a trailing zero byte is not nothing
      EXPECT_NE(ishannot::detail::fast_hash(bytes.data(), size),
                ishannot::detail::fast_hash(bytes.data(), size + 1))
          << size;
    }
  }
}
