// Features for annotate from a feature store (annotate.h store_feature_source).
#include <cmath>
#include <unordered_map>

#include "ishannot/annotate/annotate.h"
#include "ishannot/common/error.h"

namespace ishannot {

namespace {

class StoreSource : public FeatureSource {
 public:
  explicit StoreSource(const std::string& path) : store_(path) {
    for (int64_t r = 0; r < store_.rows(); ++r)
      row_of_.emplace(store_.ids()[static_cast<size_t>(r)], r);
  }
  std::string description() const override { return store_.path(); }

  // Genes only: a stage range given by --stage may differ from the store's on purpose.
  std::string mismatch(const std::vector<ImageRecord>& images) const override {
    const auto genes = store_.metadata("gene");
    if (genes.empty()) return "";
    int64_t differ = 0;
    std::string first;
    for (const auto& image : images) {
      const auto it = row_of_.find(image.id);
      if (it == row_of_.end() || image.gene.empty()) continue;
      const std::string& stored = genes[static_cast<size_t>(it->second)];
      if (stored.empty() || stored == image.gene) continue;
      if (differ++ == 0) first = image.id + " is " + stored + "'s there, " + image.gene + "'s here";
    }
    if (differ == 0) return "";
    return "holds " + std::to_string(differ) + " of these image ids with another gene (" + first +
           "): features of another dataset whose ids collide with these? (extract the images "
           "again, or give the store made from them)";
  }
  std::map<std::string, std::string> attributes() const override { return store_.attributes(); }
  std::vector<LayerSpec> layers() const override { return store_.layers(); }

  void read(const std::vector<const ImageRecord*>& images, const std::vector<std::string>& layers,
            std::vector<float>& rows, std::vector<std::string>& failure,
            std::vector<cv::Mat>* decoded) override {
    if (decoded) decoded->assign(images.size(), cv::Mat());
    int64_t dim = 0;
    for (const auto& l : layers) dim += store_.dim(l);
    const size_t n = images.size();
    rows.assign(n * static_cast<size_t>(dim), 0.0f);
    failure.assign(n, "");
    std::vector<int64_t> store_rows;
    std::vector<size_t> present;
    for (size_t i = 0; i < n; ++i) {
      auto it = row_of_.find(images[i]->id);
      if (it == row_of_.end()) {
        failure[i] = "no features for image " + images[i]->id + " in " + store_.path();
        continue;
      }
      store_rows.push_back(it->second);
      present.push_back(i);
    }
    int64_t offset = 0;
    std::vector<float> block;
    for (const auto& layer : layers) {
      const int64_t d = store_.dim(layer);
      block.resize(store_rows.size() * static_cast<size_t>(d));
      store_.read_rows(layer, store_rows, block.data());
      for (size_t k = 0; k < present.size(); ++k)
        std::copy(block.begin() + static_cast<std::ptrdiff_t>(k * static_cast<size_t>(d)),
                  block.begin() + static_cast<std::ptrdiff_t>((k + 1) * static_cast<size_t>(d)),
                  rows.begin() + static_cast<std::ptrdiff_t>(present[k] * static_cast<size_t>(dim) +
                                                             static_cast<size_t>(offset)));
      offset += d;
    }
  }

 private:
  FeatureStoreReader store_;
  std::unordered_map<std::string, int64_t> row_of_;
};

}  // namespace

std::unique_ptr<FeatureSource> store_feature_source(const std::string& path) {
  return std::make_unique<StoreSource>(path);
}

}  // namespace ishannot
