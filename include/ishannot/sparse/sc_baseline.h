#pragma once
// The sparse-coding baseline (SC) of the paper (Sun et al. 2013, BMC Bioinformatics 14:350):
// dense SIFT -> dictionary learned without labels -> a sparse code per descriptor -> pooling over a
// spatial pyramid -> one vector per image and pooling kind, written to the feature store as layers
// "sc_max", "sc_avg", "sc_sqrt" so `ishannot evaluate` treats SC exactly like CNN features.
//
// Leakage: the dictionary uses no labels, only descriptors. Learned from all images of a stage
// range it still sees the test genes' pixels (transductive, unsupervised); the strict mode learns
// it from the training genes of one outer fold only (the caller passes only those images to
// learn_sc_dictionary). See docs/BASELINE.md.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ishannot/common/progress.h"
#include "ishannot/data/dataset.h"
#include "ishannot/features/feature_store.h"
#include "ishannot/sparse/dense_sift.h"
#include "ishannot/sparse/dictionary.h"
#include "ishannot/sparse/sparse_coding.h"
#include "ishannot/sparse/spatial_pooling.h"

namespace ishannot {

struct ScBaselineParams {
  DenseSiftParams sift;                 ///< 16 px patches every 8 px, grey
  DictionaryLearningParams dictionary;  ///< K = 1024, lambda 0.15, seed
  SparseCodingParams coding;            ///< lasso, lambda 0.15 (or OMP, 10 atoms)
  PyramidParams pyramid;                ///< 1x1, 2x2, 4x4; l2-normalised
  std::vector<PoolingKind> poolings = {PoolingKind::kMax, PoolingKind::kAverage,
                                       PoolingKind::kSqrtMeanSquare};
  int dictionary_images = 2000;     ///< training images sampled for learning (0 = all of them)
  int descriptors_per_image = 100;  ///< informative descriptors sampled from each of them
  std::string check() const;
};

/// Provenance of a run: every parameter as a string (feature-store and dictionary attributes).
std::map<std::string, std::string> sc_attributes(const ScBaselineParams& params);

/// Samples descriptors (128 x n) for dictionary learning from the given images: a seeded random
/// subset of `dictionary_images` images, `descriptors_per_image` informative descriptors each.
/// The same seed gives the same sample whatever the number of threads.
Eigen::MatrixXf sample_sc_descriptors(const std::vector<std::string>& image_paths,
                                      const ScBaselineParams& params,
                                      const Reporter& reporter = {});

/// sample_sc_descriptors + learn_dictionary; provenance records the parameters and image count.
Dictionary learn_sc_dictionary(const std::vector<std::string>& image_paths,
                               const ScBaselineParams& params, const Reporter& reporter = {});

/// SC features of one image.
struct ScImageFeatures {
  int descriptors = 0;  ///< dense SIFT descriptors
  int informative = 0;  ///< of them above the contrast threshold; 0 = blank image (all-zero SC)
  std::vector<std::vector<float>> pooled;  ///< one vector per params.poolings entry
};

/// Codes and pools images on a fixed dictionary. Thread-safe (encode is const).
class ScEncoder {
 public:
  /// Throws Error when the dictionary is not of SIFT dimension or a parameter is invalid.
  ScEncoder(const Dictionary& dictionary, const ScBaselineParams& params);
  ScImageFeatures encode(const cv::Mat& bgr) const;
  int64_t dim() const;                    ///< values per image and pooling: atoms x cells
  std::vector<LayerSpec> layers() const;  ///< "sc_<pooling>", dim, shape "CELLSxATOMS"
  const ScBaselineParams& params() const { return params_; }

 private:
  ScBaselineParams params_;
  SparseCoder coder_;
};

/// What write_sc_features did.
struct ScRunSummary {
  int64_t written = 0;                 ///< images coded in this run
  int64_t resumed = 0;                 ///< images already in the store (resume)
  std::vector<std::string> blank_ids;  ///< images with no informative descriptor
  double seconds = 0;                  ///< wall time of reading + SIFT + coding + pooling
};

/// Codes every image and appends its pooled vectors to `writer` (whose layers are
/// encoder.layers()), `batch` images at a time, in parallel (OpenMP) within a batch. Images whose
/// ids the writer already holds (resume) must come first and are skipped. Unreadable images throw
/// Error naming the file; blank images are written as zeros and reported.
ScRunSummary write_sc_features(const std::vector<ImageRecord>& images, const ScEncoder& encoder,
                               FeatureStoreWriter& writer, int batch = 32,
                               const Reporter& reporter = {});

}  // namespace ishannot
