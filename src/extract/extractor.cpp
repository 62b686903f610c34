// Extraction through a libtorch Backbone (include/ishannot/nets/extract.h): the backbone as a
// FeatureNet, FeatureExtractor's torch tensors, extract_features over a Backbone.
#include "ishannot/nets/extract.h"

#include <torch/torch.h>

#include "ishannot/features/store_attributes.h"
#include "ishannot/nets/backbone.h"
#include "ishannot/nets/inference.h"
#include "nets/stages.h"

namespace ishannot {

namespace {

// A Backbone and its InferenceEngine as extraction sees a network; `owned` keeps the backbone
// alive when the caller hands it over.
class BackboneNet : public FeatureNet {
 public:
  BackboneNet(Backbone& net, std::shared_ptr<Backbone> owned)
      : net_(net), owned_(std::move(owned)) {
    identity_.arch = net.arch();
    identity_.layers = net.layers();
    identity_.preprocessing = net.preprocessing();
    identity_.weights_path = net.weights_path();
    identity_.weights_sha256 = net.weights_sha256();
    if (const auto& origin = net.finetune_origin()) {  // the leakage guard's input (evaluate)
      std::string genes;
      for (const auto& g : origin->genes) genes += g + "\n";
      identity_.attributes[store_attr::kFinetuneStageRange] = origin->stage_range;
      identity_.attributes[store_attr::kFinetuneGenes] = genes;
    }
  }
  const NetIdentity& identity() const override { return identity_; }
  void set_taps(const std::vector<int>& taps, Precision precision) override {
    torch::InferenceMode inference;
    net_.eval();
    engine_ = std::make_unique<InferenceEngine>(net_, taps, true, precision);
  }
  std::map<int, std::vector<int64_t>> tap_shapes(int64_t n, int64_t height,
                                                 int64_t width) override {
    torch::InferenceMode inference;
    return engine_->tap_shapes(n, height, width);
  }
  TapMaps forward(const FloatArray& input) override {
    torch::InferenceMode inference;
    TapMaps out;
    for (const auto& [tap, map] : engine_->forward(detail::tensor_view(input)))
      out[tap] = detail::float_view(map);
    return out;
  }

 private:
  Backbone& net_;
  std::shared_ptr<Backbone> owned_;
  NetIdentity identity_;
  std::unique_ptr<InferenceEngine> engine_;
};

}  // namespace

std::unique_ptr<FeatureNet> backbone_feature_net(Backbone& net) {
  return std::make_unique<BackboneNet>(net, nullptr);
}

std::unique_ptr<FeatureNet> backbone_feature_net(std::shared_ptr<Backbone> net) {
  Backbone& ref = *net;
  return std::make_unique<BackboneNet>(ref, std::move(net));
}

FeatureExtractor::FeatureExtractor(Backbone& net, const ExtractParams& params, int width,
                                   int height, ResizePolicy policy, int64_t batch)
    : net_(backbone_feature_net(net)),
      rows_(std::make_unique<RowExtractor>(*net_, params, width, height, policy, batch)) {}

FeatureExtractor::~FeatureExtractor() = default;

std::map<std::string, torch::Tensor> FeatureExtractor::extract(const std::vector<cv::Mat>& inputs) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& [name, rows] : rows_->extract(inputs)) out[name] = detail::tensor_view(rows);
  return out;
}

ExtractResult extract_features(const Dataset& dataset, Backbone& net, const ExtractParams& params,
                               const std::string& out_path, const Reporter& reporter) {
  const auto feature_net = backbone_feature_net(net);
  return extract_features(dataset, *feature_net, params, out_path, reporter);
}

}  // namespace ishannot
