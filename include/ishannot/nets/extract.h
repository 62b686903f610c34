#pragma once
// Feature extraction through a libtorch Backbone (any backbone, fine-tuned ones included): the
// torch-free extraction of infer/extract.h run on a FeatureNet that wraps the backbone and its
// InferenceEngine (oneDNN plan for the convolutions, libtorch for the rest).
#include <torch/types.h>

#include <map>
#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "ishannot/infer/extract.h"

namespace ishannot {

class Backbone;

/// `net` as a FeatureNet (set_taps builds its InferenceEngine); `net` must outlive it, or pass
/// ownership with the shared_ptr overload.
std::unique_ptr<FeatureNet> backbone_feature_net(Backbone& net);
std::unique_ptr<FeatureNet> backbone_feature_net(std::shared_ptr<Backbone> net);

/// RowExtractor over a Backbone with torch tensors out (annotate's CNN source, the ONNX export's
/// test tensors, Python).
class FeatureExtractor {
 public:
  /// As RowExtractor's constructor, on `net` (which must outlive the extractor).
  FeatureExtractor(Backbone& net, const ExtractParams& params, int width, int height,
                   ResizePolicy policy, int64_t batch = 0);
  ~FeatureExtractor();
  FeatureExtractor(const FeatureExtractor&) = delete;
  FeatureExtractor& operator=(const FeatureExtractor&) = delete;
  const std::vector<LayerSpec>& layers() const { return rows_->layers(); }
  std::map<std::string, std::string> attributes(const Dataset* dataset = nullptr) const {
    return rows_->attributes(dataset);
  }
  int width() const { return rows_->width(); }
  int height() const { return rows_->height(); }
  /// Features of BGR images already at the input size: per layer name, images x dim float rows.
  std::map<std::string, torch::Tensor> extract(const std::vector<cv::Mat>& inputs);

 private:
  std::unique_ptr<FeatureNet> net_;
  std::unique_ptr<RowExtractor> rows_;
};

/// extract_features (infer/extract.h) through `net`.
ExtractResult extract_features(const Dataset& dataset, Backbone& net, const ExtractParams& params,
                               const std::string& out_path, const Reporter& reporter = {});

}  // namespace ishannot
