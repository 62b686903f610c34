// VGG16 (Simonyan & Zisserman 2015) with the paper's 1-based layer numbering and Caffe names.
// Weights: Keras (block1_conv1 ... block5_conv3, fc1, fc2, predictions; HWIO kernels, dense
// [in, out], flatten in H,W,C order) or torchvision (features.N / classifier.N; OIHW, [out, in],
// flatten in C,H,W order). Both are mapped to torch layouts here. Files without the fully
// connected layers (Keras "notop", a features-only state_dict) give layers 1..31 only.
#include "ishannot/common/error.h"
#include "nets/stages.h"

namespace ishannot {
namespace {

const char* const kArch = "vgg16";

struct ConvSpec {
  int block, index;
  int64_t in, out;
};

const std::vector<ConvSpec>& conv_specs() {
  static const std::vector<ConvSpec> specs = {
      {1, 1, 3, 64},    {1, 2, 64, 64},   {2, 1, 64, 128},  {2, 2, 128, 128}, {3, 1, 128, 256},
      {3, 2, 256, 256}, {3, 3, 256, 256}, {4, 1, 256, 512}, {4, 2, 512, 512}, {4, 3, 512, 512},
      {5, 1, 512, 512}, {5, 2, 512, 512}, {5, 3, 512, 512}};
  return specs;
}

// torchvision's features.N index of each conv, in order.
const int kTorchvisionConvIndex[13] = {0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28};

struct Weights {
  std::vector<std::pair<torch::Tensor, torch::Tensor>> convs;  // OIHW + bias
  std::vector<std::pair<torch::Tensor, torch::Tensor>> fcs;    // [out, in] + bias (fc6, fc7, fc8)
};

Weights from_keras(const RawWeights& w) {
  Weights out;
  for (const ConvSpec& s : conv_specs()) {
    const std::string name = "block" + std::to_string(s.block) + "_conv" + std::to_string(s.index);
    expect_shape(w, name + "/kernel", {3, 3, s.in, s.out}, kArch);
    expect_shape(w, name + "/bias", {s.out}, kArch);
    out.convs.emplace_back(detail::hwio_to_oihw(weight_at(w, name + "/kernel", kArch)),
                           weight_at(w, name + "/bias", kArch).clone());
  }
  if (!w.tensors.count("fc1/kernel")) return out;  // a "notop" file: convolutional part only
  expect_shape(w, "fc1/kernel", {25088, 4096}, kArch);
  expect_shape(w, "fc2/kernel", {4096, 4096}, kArch);
  expect_shape(w, "predictions/kernel", {4096, 1000}, kArch);
  // Keras flattens pool5 as (H, W, C); our maps are (C, H, W): reorder fc1's input rows.
  torch::Tensor fc6 = weight_at(w, "fc1/kernel", kArch)
                          .view({7, 7, 512, 4096})
                          .permute({3, 2, 0, 1})
                          .reshape({4096, 25088})
                          .contiguous();
  out.fcs.emplace_back(fc6, weight_at(w, "fc1/bias", kArch).clone());
  out.fcs.emplace_back(weight_at(w, "fc2/kernel", kArch).t().contiguous(),
                       weight_at(w, "fc2/bias", kArch).clone());
  out.fcs.emplace_back(weight_at(w, "predictions/kernel", kArch).t().contiguous(),
                       weight_at(w, "predictions/bias", kArch).clone());
  return out;
}

Weights from_torchvision(const RawWeights& w) {
  Weights out;
  for (size_t i = 0; i < conv_specs().size(); ++i) {
    const ConvSpec& s = conv_specs()[i];
    const std::string name = "features." + std::to_string(kTorchvisionConvIndex[i]);
    expect_shape(w, name + ".weight", {s.out, s.in, 3, 3}, kArch);
    expect_shape(w, name + ".bias", {s.out}, kArch);
    out.convs.emplace_back(weight_at(w, name + ".weight", kArch).contiguous(),
                           weight_at(w, name + ".bias", kArch).clone());
  }
  if (!w.tensors.count("classifier.0.weight")) return out;  // convolutional part only
  const int64_t fc_shapes[3][2] = {{4096, 25088}, {4096, 4096}, {1000, 4096}};
  for (int i = 0; i < 3; ++i) {
    const std::string name = "classifier." + std::to_string(3 * i);
    expect_shape(w, name + ".weight", {fc_shapes[i][0], fc_shapes[i][1]}, kArch);
    expect_shape(w, name + ".bias", {fc_shapes[i][0]}, kArch);
    out.fcs.emplace_back(weight_at(w, name + ".weight", kArch).contiguous(),
                         weight_at(w, name + ".bias", kArch).clone());
  }
  return out;
}

class VGG16 : public Backbone {
 public:
  VGG16(const RawWeights& raw, const Weights& w, const PixelPreprocessing& p) : Backbone(kArch, p) {
    int number = 0;
    int previous_block = 1;
    for (size_t i = 0; i < conv_specs().size(); ++i) {
      const ConvSpec& s = conv_specs()[i];
      if (s.block != previous_block) {
        add_stage("pool" + std::to_string(previous_block), ++number,
                  std::make_shared<detail::MaxPoolStage>(2, 2, 0));
        previous_block = s.block;
      }
      const std::string suffix = std::to_string(s.block) + "_" + std::to_string(s.index);
      add_stage(
          "conv" + suffix, ++number,
          std::make_shared<detail::ConvStage>(w.convs[i].first, w.convs[i].second, 1, 1, false));
      add_stage("relu" + suffix, ++number, std::make_shared<detail::ReluStage>());
    }
    add_stage("pool5", ++number, std::make_shared<detail::MaxPoolStage>(2, 2, 0));
    for (size_t i = 0; i < w.fcs.size(); ++i) {
      add_stage("fc" + std::to_string(6 + i), ++number,
                std::make_shared<detail::LinearStage>(w.fcs[i].first, w.fcs[i].second, false));
      if (i < 2)
        add_stage("relu" + std::to_string(6 + i), ++number, std::make_shared<detail::ReluStage>());
    }
    TORCH_CHECK(number == (w.fcs.empty() ? 31 : 36), "VGG16 must have 31 or 36 numbered layers");
    set_provenance(raw);
    // Measured on 2 AMD EPYC cores (docs/BENCHMARKS.md): VGG16's 3x3 convolutions run ~1.5x
    // faster in oneDNN's NHWC layout; ResNet50 (many 1x1 convs) does not gain and stays NCHW.
    use_channels_last(true);
  }
};

}  // namespace

std::shared_ptr<Backbone> make_vgg16(const RawWeights& weights) {
  if (weights.format == WeightFormat::kTorchStateDict) {
    return std::make_shared<VGG16>(weights, from_torchvision(weights),
                                   PixelPreprocessing::torchvision());
  }
  return std::make_shared<VGG16>(weights, from_keras(weights), PixelPreprocessing::caffe());
}

}  // namespace ishannot
