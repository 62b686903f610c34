// annotate's on-the-fly features, torch-free (include/ishannot/infer/annotate_source.h): the
// recipe's parameters, a RowExtractor over a FeatureNet; unreadable images are reported per
// image, the others go through the network together.
#include "ishannot/infer/annotate_source.h"

#include <filesystem>

#include "ishannot/common/error.h"
#include "ishannot/features/pool_grid.h"
#include "ishannot/features/store_attributes.h"
#include "ishannot/image/image.h"
#include "ishannot/infer/resnet50.h"

namespace ishannot {

namespace {

std::string attribute(const FeatureRecipe& recipe, const std::string& key) {
  auto it = recipe.attributes.find(key);
  return it == recipe.attributes.end() ? std::string() : it->second;
}

class NetSource : public FeatureSource {
 public:
  NetSource(std::unique_ptr<FeatureNet> net, const FeatureRecipe& recipe, Precision precision)
      : net_(std::move(net)) {
    ResizePolicy policy;
    ExtractParams params = recipe_extract_params(recipe, &width_, &height_, &policy);
    params.precision = precision;
    extractor_ = std::make_unique<RowExtractor>(*net_, params, width_, height_, policy);
  }
  std::string description() const override {
    return net_->identity().arch + " (" + net_->identity().weights_path + ")";
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
      const FloatArray& t = out.at(name);
      const int64_t d = t.shape.at(1);
      for (size_t k = 0; k < good.size(); ++k)
        std::copy(t.data + static_cast<int64_t>(k) * d, t.data + static_cast<int64_t>(k + 1) * d,
                  rows.data() + static_cast<int64_t>(good[k]) * dim + offset);
      offset += d;
    }
  }

 private:
  std::unique_ptr<FeatureNet> net_;
  int width_ = 0, height_ = 0;
  std::unique_ptr<RowExtractor> extractor_;
};

}  // namespace

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

std::unique_ptr<FeatureSource> recipe_feature_source(std::unique_ptr<FeatureNet> net,
                                                     const FeatureRecipe& recipe,
                                                     Precision precision) {
  return std::make_unique<NetSource>(std::move(net), recipe, precision);
}

std::unique_ptr<FeatureNet> prepared_recipe_network(const FeatureRecipe& recipe,
                                                    const std::string& weights_override) {
  if (attribute(recipe, "backbone") != "resnet50" ||
      !attribute(recipe, store_attr::kFinetuneStageRange).empty())
    return nullptr;
  std::string layers;
  for (const auto& l : recipe.layers) layers += (layers.empty() ? "" : ",") + l.name;
  const std::string path =
      weights_override.empty() ? attribute(recipe, "weights_path") : weights_override;
  const std::string dir = weights_cache_dir();
  std::error_code ec;
  if (path.empty() || dir.empty() || !std::filesystem::exists(path, ec) ||
      !prepared_resnet50_covers(layers))
    return nullptr;
  auto net = prepared_resnet50(path, dir, nullptr, layers);
  if (!net || net->identity().weights_sha256 != attribute(recipe, "weights_sha256")) return nullptr;
  return net;
}

}  // namespace ishannot
