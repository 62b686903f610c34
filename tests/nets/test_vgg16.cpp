// VGG16 from the three weight formats (written by the independent Python peer with random
// weights) gives the peer's own features; the paper's layer numbering and sizes hold; Keras'
// fc1 rows (H,W,C flatten) land where torch's C,H,W flatten expects them.
#include <gtest/gtest.h>

#include "ishannot/common/error.h"
#include "ishannot/nets/backbone.h"
#include "support/nets_support.h"
#include "support/torch_support.h"

using namespace ishannot;

TEST(VGG16, PaperNumberingAndLayer21Size) {
  // Convolutional weights only (zeros are enough for names and shapes).
  RawWeights w;
  w.format = WeightFormat::kTorchStateDict;
  const int convs[13] = {0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28};
  const int64_t widths[13] = {64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512};
  int64_t in = 3;
  for (int i = 0; i < 13; ++i) {
    w.tensors["features." + std::to_string(convs[i]) + ".weight"] =
        torch::zeros({widths[i], in, 3, 3});
    w.tensors["features." + std::to_string(convs[i]) + ".bias"] = torch::zeros({widths[i]});
    in = widths[i];
  }
  auto net = make_vgg16(w);
  ASSERT_EQ(net->layers().size(), 31u);
  EXPECT_EQ(net->resolve_layer("17"), net->resolve_layer("pool3"));
  EXPECT_EQ(net->resolve_layer("21"), net->resolve_layer("relu4_2"));
  EXPECT_EQ(net->resolve_layer("24"), net->resolve_layer("pool4"));
  EXPECT_EQ(net->resolve_layer("30"), net->resolve_layer("relu5_3"));
  EXPECT_EQ(net->resolve_layer("1"), net->resolve_layer("conv1_1"));
  EXPECT_THROW(net->resolve_layer("32"), Error);  // no fc layers in a notop file
  const auto shapes = net->layer_shapes(224, 224, net->resolve_layer("21"));
  const auto& s21 = shapes[net->resolve_layer("21")];
  ASSERT_EQ(s21.size(), 3u);
  EXPECT_EQ(s21[0] * s21[1] * s21[2], 401408);  // 28 x 28 x 512, as the paper says
}

TEST(VGG16, KerasFc1RowsAreReorderedToChannelMajor) {
  // Full-size Keras weights in memory, zeros but for a few fc1 rows with known values.
  RawWeights w;
  w.format = WeightFormat::kKerasH5;
  const int64_t widths[13] = {64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512};
  const int per_block[5] = {2, 2, 3, 3, 3};
  int64_t in = 3;
  for (int b = 0, i = 0; b < 5; ++b)
    for (int c = 1; c <= per_block[b]; ++c, ++i) {
      const std::string n = "block" + std::to_string(b + 1) + "_conv" + std::to_string(c);
      w.tensors[n + "/kernel"] = torch::zeros({3, 3, in, widths[i]});
      w.tensors[n + "/bias"] = torch::zeros({widths[i]});
      in = widths[i];
    }
  torch::Tensor fc1 = torch::zeros({25088, 4096});
  // Keras row of (h, w, c) = (h * 7 + w) * 512 + c.
  const int probes[3][4] = {{0, 0, 1, 7}, {2, 5, 300, 11}, {6, 6, 511, 4095}};  // h, w, c, out
  for (const auto& p : probes) fc1[(p[0] * 7 + p[1]) * 512 + p[2]][p[3]] = 1.0f + p[2];
  w.tensors["fc1/kernel"] = fc1;
  w.tensors["fc1/bias"] = torch::zeros({4096});
  w.tensors["fc2/kernel"] = torch::zeros({4096, 4096});
  w.tensors["fc2/bias"] = torch::zeros({4096});
  w.tensors["predictions/kernel"] = torch::zeros({4096, 1000});
  w.tensors["predictions/bias"] = torch::zeros({1000});
  auto net = make_vgg16(w);
  ASSERT_EQ(net->layers().size(), 36u);
  torch::Tensor fc6;
  for (const auto& item : net->named_parameters()) {
    if (item.key() == "fc6.weight") fc6 = item.value();
  }
  ASSERT_TRUE(fc6.defined());
  ASSERT_EQ(fc6.sizes(), torch::IntArrayRef({4096, 25088}));
  EXPECT_EQ(fc6.abs().sum().item<float>(), 2.0f + 301.0f + 512.0f);
  for (const auto& p : probes) {
    EXPECT_EQ(fc6[p[3]][p[2] * 49 + p[0] * 7 + p[1]].item<float>(),
              1.0f + p[2]);  // torch col = c*49 + h*7 + w
  }
}

TEST(VGG16, ThreeWeightFormatsMatchIndependentPyTorchPeer) {
  ISHANNOT_SKIP_WITHOUT_PYTHON_TORCH();
  const std::string dir = test::temp_dir("vgg-peer");
  ASSERT_EQ(test::run_peer("vgg16-files --seed 7 --out " + dir), 0);
  torch::manual_seed(3);
  torch::Tensor input = torch::randn({1, 3, 64, 96}) * 40;  // any size works for the conv part
  test::write_f32(dir + "/in.f32", input);
  ASSERT_EQ(test::run_peer("vgg16 --weights " + dir + "/vgg16.pth --input " + dir +
                           "/in.f32 --n 1 --size 64x96 --layers 17,21,30 --out " + dir),
            0);
  torch::Tensor peer17 = test::read_f32(dir + "/17.f32", {1, 256, 8, 12});
  torch::Tensor peer21 = test::read_f32(dir + "/21.f32", {1, 512, 8, 12});
  torch::Tensor peer30 = test::read_f32(dir + "/30.f32", {1, 512, 4, 6});
  std::vector<std::string> files = {dir + "/vgg16.pth", dir + "/tfjs/model.json"};
  if (std::filesystem::exists(dir + "/vgg16_notop.h5")) files.push_back(dir + "/vgg16_notop.h5");
  torch::NoGradGuard no_grad;
  for (const std::string& file : files) {
    auto net = load_backbone("vgg16", file);
    const auto taps = net->resolve_layers("17,21,30");
    auto ours = net->forward_taps(input, taps);
    EXPECT_LT(test::relative_error(ours.at(taps[0]), peer17), 1e-4) << file;
    EXPECT_LT(test::relative_error(ours.at(taps[1]), peer21), 1e-4) << file;
    EXPECT_LT(test::relative_error(ours.at(taps[2]), peer30), 1e-4) << file;
  }
  EXPECT_EQ(load_backbone("vgg16", dir + "/vgg16.pth")->preprocessing().name, "torchvision");
  EXPECT_EQ(load_backbone("vgg16", dir + "/tfjs/model.json")->preprocessing().name, "caffe");
}
