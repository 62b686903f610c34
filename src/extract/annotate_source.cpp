// annotate's on-the-fly features (nets/annotate_source.h): a FeatureExtractor built from a bundle's
// recipe; unreadable images are reported per image, the others go through the network together.
#include <torch/torch.h>

#include <filesystem>

#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/features/pool_grid.h"
#include "ishannot/features/store_attributes.h"
#include "ishannot/image/image.h"
#include "ishannot/nets/annotate_source.h"
#include "ishannot/nets/backbone.h"
#include "ishannot/nets/extract.h"
#include "ishannot/nets/finetune.h"

namespace ishannot {

namespace {

std::string attribute(const FeatureRecipe& recipe, const std::string& key) {
  auto it = recipe.attributes.find(key);
  return it == recipe.attributes.end() ? std::string() : it->second;
}

}  // namespace

// The recipe's network, its weights checked against the recorded SHA-256.
std::shared_ptr<Backbone> recipe_network(const FeatureRecipe& recipe, const std::string& override) {
  const std::string backbone = attribute(recipe, "backbone");
  if (backbone == "sparse-coding")
    throw Error(
        "the bundle was trained on sparse-coding (SC) features: make them for the new "
        "images with ishannot baseline --dictionary DICT (the training features' "
        "dictionary, SHA-256 " +
        attribute(recipe, "sc_dictionary_sha256") + ") and pass them with --features");
  const std::string path = override.empty() ? attribute(recipe, "weights_path") : override;
  if (path.empty() || !std::filesystem::exists(path))
    throw file_error(path.empty() ? std::string("(no weights path)") : path,
                     "the bundle's weights file is missing (give its new place with --weights)");
  std::shared_ptr<Backbone> net;
  if (!attribute(recipe, store_attr::kFinetuneStageRange).empty()) {
    net = load_finetuned_model(path).net->backbone_ptr();  // provenance: the model file
  } else {
    net = load_backbone(backbone, path);
  }
  if (net->weights_sha256() != attribute(recipe, "weights_sha256"))
    throw file_error(path, "weights SHA-256 " + net->weights_sha256() +
                               " differ from the bundle's " + attribute(recipe, "weights_sha256") +
                               " (features would not be those the models were trained on)");
  return net;
}

ExtractParams recipe_extract_params(const FeatureRecipe& recipe, int* width, int* height,
                                    ResizePolicy* policy) {
  ExtractParams params;
  params.layers.clear();  // the recipe's layers only, not ExtractParams' default taps
  for (const auto& l : recipe.layers) params.layers += (params.layers.empty() ? "" : ",") + l.name;
  const std::string pooling = attribute(recipe, "pooling");
  try {
    params.pool = parse_pool_grid(pooling.empty() ? "none" : pooling);
  } catch (const Error&) {  // not --pool's fault: the user gave no such option here
    throw Error("the bundle's /recipe says pooling '" + pooling +
                "', not a pooling ishannot knows (none, avg or max, optionally :GhxGw): an "
                "edited or damaged bundle");
  }
  ResizePolicy ignored;
  parse_input_size(attribute(recipe, "input_size"), width, height, &ignored);
  *policy = attribute(recipe, "resize_policy") == "native" ? ResizePolicy::kNative
                                                           : ResizePolicy::kSquash;
  return params;
}

namespace {

class CnnSource : public FeatureSource {
 public:
  CnnSource(std::shared_ptr<Backbone> net, const FeatureRecipe& recipe, Precision precision)
      : net_(std::move(net)) {
    ResizePolicy policy;
    ExtractParams params = recipe_extract_params(recipe, &width_, &height_, &policy);
    params.precision = precision;
    extractor_ = std::make_unique<FeatureExtractor>(*net_, params, width_, height_, policy);
  }
  std::string description() const override {
    return net_->arch() + " (" + net_->weights_path() + ")";
  }
  std::map<std::string, std::string> attributes() const override {
    return extractor_->attributes();
  }
  std::vector<LayerSpec> layers() const override { return extractor_->layers(); }

  void read(const std::vector<const ImageRecord*>& images, const std::vector<std::string>& layers,
            std::vector<float>& rows, std::vector<std::string>& failure,
            std::vector<cv::Mat>* decoded) override {
    if (decoded) decoded->assign(images.size(), cv::Mat());
    int64_t dim = 0;
    for (const auto& name : layers)
      for (const auto& l : extractor_->layers())
        if (l.name == name) dim += l.dim;
    rows.assign(images.size() * static_cast<size_t>(dim), 0.0f);
    failure.assign(images.size(), "");
    std::vector<cv::Mat> inputs;
    std::vector<size_t> good;
    for (size_t i = 0; i < images.size(); ++i) {
      try {
        if (images[i]->path.empty()) throw Error(images[i]->id + ": no image file");
        const cv::Mat bgr = read_image_bgr(images[i]->path);
        inputs.push_back(resize_for_network(bgr, width_, height_, ResizePolicy::kSquash));
        good.push_back(i);
        if (decoded) (*decoded)[i] = bgr;
      } catch (const Error& e) {
        failure[i] = e.what();
      }
    }
    if (inputs.empty()) return;
    const auto out = extractor_->extract(inputs);
    int64_t offset = 0;
    for (const auto& name : layers) {
      const torch::Tensor& t = out.at(name);
      const int64_t d = t.size(1);
      const float* data = t.data_ptr<float>();
      for (size_t k = 0; k < good.size(); ++k)
        std::copy(data + static_cast<int64_t>(k) * d, data + static_cast<int64_t>(k + 1) * d,
                  rows.data() + static_cast<int64_t>(good[k]) * dim + offset);
      offset += d;
    }
  }

 private:
  std::shared_ptr<Backbone> net_;
  int width_ = 0, height_ = 0;
  std::unique_ptr<FeatureExtractor> extractor_;
};

}  // namespace

std::unique_ptr<FeatureSource> cnn_feature_source(const FeatureRecipe& recipe,
                                                  const std::string& weights_override,
                                                  Precision precision) {
  return std::make_unique<CnnSource>(recipe_network(recipe, weights_override), recipe, precision);
}

}  // namespace ishannot
