// ScEncoder: dense SIFT -> sparse codes -> pyramid pooling for one image.
#include "ishannot/common/error.h"
#include "ishannot/sparse/sc_baseline.h"

namespace ishannot {
namespace {

const ScBaselineParams& checked(const ScBaselineParams& params, const Dictionary& dictionary) {
  if (auto problem = params.check(); !problem.empty()) throw Error(problem);
  if (dictionary.dimension() != kSiftDimension) {
    throw Error("SC baseline: the dictionary's atoms have " +
                std::to_string(dictionary.dimension()) + " dimensions, SIFT descriptors " +
                std::to_string(kSiftDimension));
  }
  return params;
}

}  // namespace

ScEncoder::ScEncoder(const Dictionary& dictionary, const ScBaselineParams& params)
    : params_(checked(params, dictionary)), coder_(dictionary.atoms, params.coding) {}

int64_t ScEncoder::dim() const {
  return static_cast<int64_t>(coder_.atoms()) * params_.pyramid.cells();
}

std::vector<LayerSpec> ScEncoder::layers() const {
  std::vector<LayerSpec> out;
  for (PoolingKind kind : params_.poolings) {
    // shape: pyramid cells x atoms; source: the atoms' codes of every dense-SIFT descriptor.
    LayerSpec spec;
    spec.name = "sc_" + pooling_kind_name(kind);
    spec.dim = dim();
    spec.shape = std::to_string(params_.pyramid.cells()) + "x" + std::to_string(coder_.atoms());
    spec.source_shape = "descriptorsx" + std::to_string(coder_.atoms());
    spec.pooling = pooling_kind_name(kind) + ":" + params_.pyramid.text();
    out.push_back(spec);
  }
  return out;
}

ScImageFeatures ScEncoder::encode(const cv::Mat& bgr) const {
  const DenseSiftDescriptors sift = dense_sift(bgr, params_.sift);
  ScImageFeatures out;
  out.descriptors = sift.count();
  out.informative = sift.above_threshold();
  const SparseCodes codes = coder_.encode(sift.descriptors);
  for (PoolingKind kind : params_.poolings) {
    out.pooled.push_back(
        pool_codes(codes, sift.x, sift.y, sift.width, sift.height, params_.pyramid, kind));
  }
  return out;
}

}  // namespace ishannot
