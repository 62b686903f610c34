// InferenceEngine (oneDNN plan: fused post-ops, blocked layouts, reordered weights) against the
// stage-by-stage torch path (Backbone::forward_taps, the slow obvious reference) and against the
// independent Python peer (bench/peer_features.py): ResNet50 with the real ImageNet weights on
// real photos, at the 320x128 native ISH size and 224x224, and VGG16 with the peer's random
// weights (a pre-ReLU tap, fused ReLUs, max-pools), plus the fallbacks (fully connected stages
// through torch, gradients enabled). bf16: against the fp32 plan (which the tests above check) and
// a real photo's ImageNet label; refused on a CPU without bf16 (simulated by the environment).
#include <gtest/gtest.h>

#include <cstdlib>

#include "ishannot/common/error.h"
#include "ishannot/image/image.h"
#include "ishannot/nets/backbone.h"
#include "ishannot/nets/inference.h"
#include "support/nets_support.h"
#include "support/torch_support.h"

using namespace ishannot;

namespace {

torch::Tensor photo_batch(const Backbone& net, int width, int height) {
  std::vector<cv::Mat> images;
  for (const char* f : {"baboon.jpg", "messi5.jpg", "orange.jpg"})
    images.push_back(
        resize_for_network(read_image_bgr(test::photo(f)), width, height, ResizePolicy::kSquash));
  return net.to_input(images);
}

// The engine gives the torch path's taps, to float rounding (different summation orders).
void expect_same_taps(Backbone& net, const std::string& layers, const torch::Tensor& input,
                      double tolerance) {
  const auto taps = net.resolve_layers(layers);
  const auto reference = net.forward_taps(input, taps);
  InferenceEngine engine(net, taps);
  for (int pass = 0; pass < 2; ++pass) {  // the second pass reuses the compiled plan
    const auto ours = engine.forward(input);
    ASSERT_EQ(ours.size(), taps.size());
    for (int t : taps) {
      const std::string& name = net.layers()[static_cast<size_t>(t)].name;
      ASSERT_EQ(ours.at(t).sizes(), reference.at(t).sizes()) << name;
      EXPECT_TRUE(ours.at(t).is_contiguous()) << name;
      EXPECT_LT(test::relative_error(ours.at(t), reference.at(t)), tolerance) << name;
    }
  }
}

}  // namespace

TEST(InferenceEngine, ResNet50MatchesTheTorchPathAtNativeAndSquareSizes) {
  ISHANNOT_SKIP_WITHOUT_WEIGHTS();
  torch::InferenceMode guard;
  auto net = load_backbone("resnet50", "");
  net->eval();
  const torch::Tensor native = photo_batch(*net, 320, 128);
  expect_same_taps(*net, "conv1,pool1,res2a,res2c,res3a,res3d,res4f", native, 1e-5);
  InferenceEngine engine(*net, net->resolve_layers("res4f"));
  engine.forward(native.slice(0, 0, 1));  // another batch size: its own plan
  EXPECT_EQ(engine.compiled_stages(), net->resolve_layer("res4f") + 1);
  // fc1000 (softmax probabilities) needs the fallback through torch after res5c.
  const torch::Tensor square = photo_batch(*net, 224, 224);
  expect_same_taps(*net, "res5c,fc1000", square, 1e-5);
  InferenceEngine labels(*net, {net->resolve_layer("fc1000")});
  const torch::Tensor probs = labels.forward(square).at(net->resolve_layer("fc1000"));
  EXPECT_EQ(labels.compiled_stages(), net->resolve_layer("res5c") + 1);
  EXPECT_EQ(probs.argmax(1)[0].item<int64_t>(), 372);  // baboon
  EXPECT_EQ(probs.argmax(1)[2].item<int64_t>(), 950);  // orange
}

TEST(InferenceEngine, ResNet50MatchesIndependentPyTorchPeer) {
  ISHANNOT_SKIP_WITHOUT_WEIGHTS();
  ISHANNOT_SKIP_WITHOUT_PYTHON_TORCH();
  const std::string dir = test::temp_dir("engine-peer");
  std::vector<cv::Mat> images;
  for (const char* f : {"baboon.jpg", "messi5.jpg"})
    images.push_back(
        resize_for_network(read_image_bgr(test::photo(f)), 320, 128, ResizePolicy::kSquash));
  {
    std::ofstream raw(dir + "/in.u8", std::ios::binary);
    for (const cv::Mat& m : images) raw.write(reinterpret_cast<const char*>(m.data), 320 * 128 * 3);
  }
  ASSERT_EQ(test::run_peer("resnet50 --weights " + default_resnet50_weights() + " --input " + dir +
                           "/in.u8 --n 2 --size 128x320 --layers res3d,res4f --out " + dir),
            0);
  torch::InferenceMode guard;
  auto net = load_backbone("resnet50", "");
  net->eval();
  const auto taps = net->resolve_layers("res3d,res4f");
  InferenceEngine engine(*net, taps);
  const auto ours = engine.forward(net->to_input(images));
  const torch::Tensor res3d = test::read_f32(dir + "/res3d.f32", {2, 512, 16, 40});
  const torch::Tensor res4f = test::read_f32(dir + "/res4f.f32", {2, 1024, 8, 20});
  EXPECT_LT(test::relative_error(ours.at(taps[0]), res3d), 1e-4);
  EXPECT_LT(test::relative_error(ours.at(taps[1]), res4f), 1e-4);
}

TEST(InferenceEngine, Vgg16PreReluTapsFusedRelusAndPools) {
  ISHANNOT_SKIP_WITHOUT_PYTHON_TORCH();
  const std::string dir = test::temp_dir("engine-vgg");
  ASSERT_EQ(test::run_peer("vgg16-files --seed 11 --out " + dir), 0);
  torch::manual_seed(4);
  const torch::Tensor input = torch::randn({2, 3, 80, 112}) * 40;
  test::write_f32(dir + "/in.f32", input);
  ASSERT_EQ(test::run_peer("vgg16 --weights " + dir + "/vgg16.pth --input " + dir +
                           "/in.f32 --n 2 --size 80x112 --layers 17,21 --out " + dir),
            0);
  torch::InferenceMode guard;
  auto net = load_backbone("vgg16", dir + "/vgg16.pth");
  // 20 = conv4_2 before its ReLU (not fused), 21 = relu4_2, 17 = pool3, 5 = pool1.
  expect_same_taps(*net, "5,17,20,21,30", input, 1e-5);
  const auto taps = net->resolve_layers("17,21");
  InferenceEngine engine(*net, taps);
  const auto ours = engine.forward(input);
  EXPECT_LT(
      test::relative_error(ours.at(taps[0]), test::read_f32(dir + "/17.f32", {2, 256, 10, 14})),
      1e-4);
  EXPECT_LT(
      test::relative_error(ours.at(taps[1]), test::read_f32(dir + "/21.f32", {2, 512, 10, 14})),
      1e-4);
}

TEST(InferenceEngine, GradientsEnabledFallBackToTheTorchPath) {
  ISHANNOT_SKIP_WITHOUT_WEIGHTS();
  auto net = load_backbone("resnet50", "");
  const auto taps = net->resolve_layers("res2a");
  InferenceEngine engine(*net, taps);
  const torch::Tensor input = torch::randn({1, 3, 64, 64});
  torch::Tensor out = engine.forward(input).at(taps[0]);
  EXPECT_EQ(engine.compiled_stages(), 0);
  EXPECT_TRUE(out.requires_grad());
}

// bf16 (bfloat16 activations and weights, float32 accumulation): the taps within a few per cent of
// fp32 (measured on this CPU: docs/BENCHMARKS.md "bf16 inference"), and ImageNet's label of the
// real photos unchanged. Skipped where the CPU has no bf16 arithmetic.
TEST(InferenceEngine, Bf16TapsNearFp32AndTheSameImageNetLabels) {
  ISHANNOT_SKIP_WITHOUT_WEIGHTS();
  if (const std::string why = InferenceEngine::bf16_unsupported_reason(); !why.empty())
    GTEST_SKIP() << "bf16 not tested here: " << why;
  torch::InferenceMode guard;
  auto net = load_backbone("resnet50", "");
  net->eval();
  const auto taps = net->resolve_layers("res3d,res4f,fc1000");
  const torch::Tensor input = photo_batch(*net, 224, 224);
  InferenceEngine fp32(*net, taps), bf16(*net, taps, true, Precision::kBf16);
  EXPECT_EQ(bf16.precision(), Precision::kBf16);
  const auto reference = fp32.forward(input), ours = bf16.forward(input);
  for (int t : {taps[0], taps[1]}) {
    const std::string& name = net->layers()[static_cast<size_t>(t)].name;
    ASSERT_EQ(ours.at(t).sizes(), reference.at(t).sizes()) << name;
    const double error = test::relative_error(ours.at(t), reference.at(t));
    EXPECT_LT(error, 0.05) << name;
    EXPECT_GT(error, 1e-4) << name << ": as close as fp32 itself: was bf16 used at all?";
  }
  const torch::Tensor probs = ours.at(taps[2]);
  EXPECT_EQ(probs.argmax(1)[0].item<int64_t>(), 372);  // baboon
  EXPECT_EQ(probs.argmax(1)[2].item<int64_t>(), 950);  // orange
}

TEST(InferenceEngine, Bf16IsRefusedInOneLineOnACpuWithoutIt) {
  ISHANNOT_SKIP_WITHOUT_WEIGHTS();
  auto net = load_backbone("resnet50", "");
  const auto taps = net->resolve_layers("res2a");
  setenv("ISHANNOT_CPU_NO_BF16", "1", 1);
  std::string message;
  try {
    InferenceEngine engine(*net, taps, true, Precision::kBf16);
  } catch (const Error& e) {
    message = e.what();
  }
  unsetenv("ISHANNOT_CPU_NO_BF16");
  EXPECT_NE(message.find("--precision bf16"), std::string::npos) << message;
  EXPECT_NE(message.find("no bf16"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_NO_THROW(InferenceEngine(*net, taps, true, Precision::kFp32));
}
