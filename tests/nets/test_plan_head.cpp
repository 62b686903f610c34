// The plan's head (infer/onednn_plan.h): its first stages run two images at a time (one for an
// odd batch), each run into its slice of the buffer the later stages read as one batch. Checked
// against the stage-by-stage torch path (the slow obvious reference) with taps inside the head
// and after it, at even and odd batch sizes, on ResNet50 with its real weights (real photos at
// the native 320x128) and VGG16 with the Python peer's random weights; and bitwise against the
// same plan with the head switched off (ISHANNOT_PLAN_HEAD_BATCH=0) with direct convolution (the
// default; with Winograd in nChw16c, AVX-512's layout, a pair's bits differ from a batch of 8's).
// What extraction promises holds with both algorithms: an image's bits do not depend on the other
// images of its batch or its place there, and a batch padded after its first images skips the
// head's runs of padding only and gives the real images the bits of the full run.
#include <gtest/gtest.h>

#include <cstdlib>
#include <set>

#include "infer/onednn_plan.h"
#include "infer/plan_weights.h"
#include "ishannot/image/image.h"
#include "ishannot/nets/backbone.h"
#include "nets/stages.h"
#include "support/nets_support.h"
#include "support/torch_support.h"

using namespace ishannot;
using ishannot::detail::OnednnPlan;
using ishannot::detail::PlanWeights;

namespace {

// Bitwise comparisons run on one thread, as in test_plan_weights.cpp; the count is restored
// however the test ends.
struct OneThread {
  const int threads = torch::get_num_threads();
  OneThread() { torch::set_num_threads(1); }
  ~OneThread() { torch::set_num_threads(threads); }
  OneThread(const OneThread&) = delete;
  OneThread& operator=(const OneThread&) = delete;
};

// Eight different images: three photos, their mirror images, two of them upside down.
torch::Tensor eight_photos(const Backbone& net) {
  std::vector<cv::Mat> images;
  for (const char* f : {"baboon.jpg", "messi5.jpg", "orange.jpg"}) {
    const cv::Mat m =
        resize_for_network(read_image_bgr(test::photo(f)), 320, 128, ResizePolicy::kSquash);
    cv::Mat mirrored, upside_down;
    cv::flip(m, mirrored, 1);
    cv::flip(m, upside_down, 0);
    images.push_back(m);
    images.push_back(mirrored);
    if (images.size() < 8) images.push_back(upside_down);
  }
  return net.to_input(images);
}

std::map<int, torch::Tensor> run_plan(Backbone& net, const std::vector<int>& taps,
                                      const torch::Tensor& input, int64_t expect_head_batch) {
  std::vector<torch::Tensor> kept;
  OnednnPlan plan(ishannot::detail::stage_specs(net.stages(), kept), taps,
                  {input.size(0), 3, input.size(2), input.size(3)}, Precision::kFp32,
                  std::make_shared<PlanWeights>(""));
  EXPECT_EQ(plan.head_batch(), expect_head_batch) << "batch of " << input.size(0);
  const torch::Tensor contiguous = input.contiguous();
  std::map<int, torch::Tensor> out;
  std::set<const float*> first_maps;
  for (int pass = 0; pass < 2; ++pass) {  // the second run reuses the buffers
    std::set<const float*> maps;
    for (const auto& [tap, map] : plan.run(contiguous.data_ptr<float>())) {
      out[tap] = torch::from_blob(map.data, map.shape, torch::kFloat).clone();
      maps.insert(map.data);
    }
    if (pass == 0) first_maps = maps;
    // The first run's maps were dropped: the second writes their memory (FloatArrayPool).
    if (pass == 1) {
      EXPECT_EQ(maps, first_maps);
    }
  }
  return out;
}

std::shared_ptr<Backbone> resnet50_for_inference() {
  auto net = load_backbone("resnet50", "");
  net->eval();
  return net;
}

// A plan for batches of 8 photos at 320x128, its weights in memory only.
std::unique_ptr<OnednnPlan> plan_of_eight(Backbone& net, const std::vector<int>& taps,
                                          std::vector<torch::Tensor>& kept) {
  return std::make_unique<OnednnPlan>(ishannot::detail::stage_specs(net.stages(), kept), taps,
                                      std::vector<int64_t>{8, 3, 128, 320}, Precision::kFp32,
                                      std::make_shared<PlanWeights>(""));
}

std::map<int, torch::Tensor> as_tensors(const TapMaps& maps) {
  std::map<int, torch::Tensor> out;
  for (const auto& [tap, map] : maps)
    out[tap] = torch::from_blob(map.data, map.shape, torch::kFloat).clone();
  return out;
}

// The plan with and without its head against the torch path, and bitwise against each other.
void expect_head_exact(Backbone& net, const std::string& layers, const torch::Tensor& input,
                       int64_t head_batch) {
  const auto taps = net.resolve_layers(layers);
  const auto reference = net.forward_taps(input, taps);
  const auto with_head = run_plan(net, taps, input, head_batch);
  setenv("ISHANNOT_PLAN_HEAD_BATCH", "0", 1);
  const auto without = run_plan(net, taps, input, 0);
  unsetenv("ISHANNOT_PLAN_HEAD_BATCH");
  ASSERT_EQ(with_head.size(), taps.size());
  for (int t : taps) {
    const std::string& name = net.layers()[static_cast<size_t>(t)].name;
    ASSERT_EQ(with_head.at(t).sizes(), reference.at(t).sizes()) << name;
    EXPECT_LT(test::relative_error(with_head.at(t), reference.at(t)), 1e-5) << name;
    EXPECT_TRUE(torch::equal(with_head.at(t), without.at(t))) << name;
  }
}

}  // namespace

TEST(PlanHead, ResNet50TapsInAndAfterTheHeadMatchTheTorchPath) {
  ISHANNOT_SKIP_WITHOUT_WEIGHTS();
  torch::InferenceMode guard;
  auto net = load_backbone("resnet50", "");
  net->eval();
  const OneThread one;
  const torch::Tensor input = eight_photos(*net);
  // pool1, res2c, res3d: in the head (res3d its last stage); res4a, res4f: after it.
  expect_head_exact(*net, "pool1,res2c,res3d,res4a,res4f", input, 2);
  expect_head_exact(*net, "res3d,res4f", input.slice(0, 0, 5), 1);  // odd: one image per run
  expect_head_exact(*net, "res2a", input.slice(0, 0, 6), 2);        // all taps in the head
}

TEST(PlanHead, AnImagesBitsDoNotDependOnItsPlaceInTheBatch) {
  ISHANNOT_SKIP_WITHOUT_WEIGHTS();
  torch::InferenceMode guard;
  auto net = resnet50_for_inference();
  const OneThread one;
  const torch::Tensor input = eight_photos(*net).contiguous();
  // Shifted by one: each image in the other half of a pair, at another place in the batch.
  const torch::Tensor shifted = torch::roll(input, 1, 0).contiguous();
  const auto taps = net->resolve_layers("res3d,res4f");  // the head's last stage, and after it
  for (const char* algorithm : {"direct", "winograd"}) {
    setenv("ISHANNOT_CONV_ALGORITHM", algorithm, 1);
    std::vector<torch::Tensor> kept;
    const auto plan = plan_of_eight(*net, taps, kept);
    const auto first = as_tensors(plan->run(input.data_ptr<float>()));
    const auto second = as_tensors(plan->run(shifted.data_ptr<float>()));
    unsetenv("ISHANNOT_CONV_ALGORITHM");
    for (int t : taps)
      EXPECT_TRUE(torch::equal(first.at(t).slice(0, 0, 7), second.at(t).slice(0, 1, 8)))
          << net->layers()[static_cast<size_t>(t)].name << ", " << algorithm;
  }
}

TEST(PlanHead, PaddedBatchKeepsTheRealImagesBits) {
  ISHANNOT_SKIP_WITHOUT_WEIGHTS();
  torch::InferenceMode guard;
  auto net = resnet50_for_inference();
  const OneThread one;
  const torch::Tensor input = eight_photos(*net).contiguous();
  const auto taps = net->resolve_layers("res2c,res4f");
  std::vector<torch::Tensor> kept;
  const auto plan = plan_of_eight(*net, taps, kept);
  ASSERT_EQ(plan->head_batch(), 2);
  const auto full = as_tensors(plan->run(input.data_ptr<float>()));
  for (int64_t images : {3, 1, 4}) {  // the head runs 2, 1 and 2 of its 4 runs
    const auto first = as_tensors(plan->run(input.data_ptr<float>(), images));
    for (int t : taps)
      EXPECT_TRUE(torch::equal(first.at(t).slice(0, 0, images), full.at(t).slice(0, 0, images)))
          << net->layers()[static_cast<size_t>(t)].name << ", " << images << " images";
  }
}

TEST(PlanHead, Vgg16HeadOfItsFirstBlocks) {
  ISHANNOT_SKIP_WITHOUT_PYTHON_TORCH();
  const std::string dir = test::temp_dir("plan-head-vgg");
  ASSERT_EQ(test::run_peer("vgg16-files --seed 5 --out " + dir), 0);
  torch::InferenceMode guard;
  auto net = load_backbone("vgg16", dir + "/vgg16.pth");
  const OneThread one;
  torch::manual_seed(9);
  const torch::Tensor input = torch::randn({4, 3, 80, 112}) * 40;
  // 3 = relu1_2 (tapped: its own stage), 5 = pool1, 17 = pool3 (after the head), 21 = relu4_2.
  expect_head_exact(*net, "3,5,17,21", input, 2);
}
