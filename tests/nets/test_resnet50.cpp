// ResNet50 with the real ImageNet weights: real photos get their real labels, and intermediate
// features equal those of an independent PyTorch implementation (bench/peer_features.py).
#include <gtest/gtest.h>

#include "ishannot/image/image.h"
#include "ishannot/nets/backbone.h"
#include "support/nets_support.h"
#include "support/torch_support.h"

using namespace ishannot;

TEST(ResNet50, RealPhotosGetTheirImageNetLabels) {
  ISHANNOT_SKIP_WITHOUT_WEIGHTS();
  torch::InferenceMode guard;
  auto net = load_backbone("resnet50", "");
  net->eval();
  const auto labels = imagenet_labels();
  const int fc = net->resolve_layer("fc1000");
  // ImageNet classes: 372 baboon, 950 orange, 805 soccer ball.
  for (const auto& [file, expected] : std::vector<std::pair<std::string, int>>{
           {"baboon.jpg", 372}, {"orange.jpg", 950}, {"messi5.jpg", 805}}) {
    cv::Mat img =
        resize_for_network(read_image_bgr(test::photo(file)), 224, 224, ResizePolicy::kSquash);
    torch::Tensor probs = net->forward_taps(net->to_input({img}), {fc}).at(fc);
    EXPECT_EQ(probs.argmax(1).item<int64_t>(), expected)
        << file << " -> " << labels[probs.argmax(1).item<int64_t>()];
    EXPECT_NEAR(probs.sum().item<double>(), 1.0, 1e-4);
  }
}

TEST(ResNet50, FeaturesMatchIndependentPyTorchPeer) {
  ISHANNOT_SKIP_WITHOUT_WEIGHTS();
  ISHANNOT_SKIP_WITHOUT_PYTHON_TORCH();
  const std::string dir = test::temp_dir("resnet-peer");
  std::vector<cv::Mat> images;
  for (const char* f : {"baboon.jpg", "messi5.jpg"}) {
    images.push_back(
        resize_for_network(read_image_bgr(test::photo(f)), 224, 224, ResizePolicy::kSquash));
  }
  {
    std::ofstream raw(dir + "/in.u8", std::ios::binary);
    for (const cv::Mat& m : images) raw.write(reinterpret_cast<const char*>(m.data), 224 * 224 * 3);
  }
  ASSERT_EQ(test::run_peer("resnet50 --weights " + default_resnet50_weights() + " --input " + dir +
                           "/in.u8 --n 2 --size 224x224 --layers res3d,res4f,res5c --out " + dir),
            0);
  torch::InferenceMode guard;
  auto net = load_backbone("resnet50", "");
  net->eval();
  const auto taps = net->resolve_layers("res3d,res4f,res5c");
  auto ours = net->forward_taps(net->to_input(images), taps);
  const std::vector<std::vector<int64_t>> shapes = {
      {2, 512, 28, 28}, {2, 1024, 14, 14}, {2, 2048, 7, 7}};
  for (size_t i = 0; i < taps.size(); ++i) {
    const std::string name = net->layers()[taps[i]].name;
    torch::Tensor peer = test::read_f32(dir + "/" + name + ".f32", shapes[i]);
    ASSERT_EQ(ours.at(taps[i]).sizes(), peer.sizes()) << name;
    EXPECT_LT(test::relative_error(ours.at(taps[i]), peer), 1e-4) << name;
  }
}
