#pragma once
// Feature extraction, torch-free: images -> a FeatureNet's taps (infer/network.h) -> (optional
// spatial pooling) -> flattened rows of a FeatureStore, one dataset per tap. Batched, resumable:
// the store is written as OUT.partial and renamed when complete; a rerun after a crash skips the
// ids already there. A pipeline: a thread decodes and resizes the next batches while the calling
// thread runs the forward pass and another thread writes the rows. An image that cannot be
// decoded is skipped and listed (OUT.skipped.tsv and the store's skipped_images attribute),
// unless params.strict. The network is nets' Backbone through libtorch (nets/extract.h) or the
// prepared ResNet50 (infer/resnet50.h), which never loads libtorch.
#include <cstdint>
#include <map>
#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "ishannot/common/progress.h"
#include "ishannot/common/provenance.h"
#include "ishannot/data/dataset.h"
#include "ishannot/features/feature_store.h"
#include "ishannot/features/pool_grid.h"
#include "ishannot/features/precision.h"
#include "ishannot/features/store_attributes.h"
#include "ishannot/image/image.h"
#include "ishannot/infer/network.h"

namespace ishannot {

struct ExtractParams {
  std::string layers = "res3d,res4f,res5c";  ///< taps: names or paper numbers, comma-separated
  std::string input_size = "224x224";        ///< WxH (paper: squash to 224x224) or "native"
  PoolGrid pool;  ///< none = flatten the whole map (paper); else pool to a grid first
  int batch = 8;  ///< images per forward pass
  FeatureDtype dtype = FeatureDtype::kFloat32;
  /// The forward pass's arithmetic (features/precision.h); stored as the `precision` attribute.
  Precision precision = Precision::kFp32;
  bool resume = true;   ///< continue OUT.partial when it exists and is compatible
  bool strict = false;  ///< stop at the first unusable image instead of skipping it
  /// Written as the store's tool_version, created_by and seed attributes (extraction itself
  /// draws nothing; seed 0 when unset).
  Provenance provenance;
  /// More root attributes of the store (e.g. a fine-tuned model's stage range and genes).
  std::map<std::string, std::string> extra_attributes;

  std::string check() const;
};

/// An image left out of the store, and why (the problem part of the Error it raised).
struct SkippedImage {
  std::string path;
  std::string reason;
};

struct ExtractResult {
  int64_t written = 0;          ///< rows written by this run
  int64_t already_present = 0;  ///< rows found in OUT.partial and skipped
  double seconds = 0;
  /// Seconds from the process's start to the end of this run's first forward pass (libraries,
  /// weights, the plan, the first batch decoded and run); -1 when no batch ran.
  double first_batch_seconds = -1;
  std::vector<LayerSpec> layers;
  std::vector<SkippedImage> skipped;  ///< images that could not be used (never with strict)
  std::string skipped_list;           ///< OUT.skipped.tsv when something was skipped, else ""
};

/// Rows of one batch at a time: a FeatureNet's taps of decoded images, pooled and flattened as a
/// store holds them. extract_features runs it over a dataset; annotate over its images (nets/
/// annotate_source.h, through nets' FeatureExtractor).
class RowExtractor {
 public:
  /// Sets the net's taps (params.layers) and precision, and resolves the taps' shapes at
  /// width x height (policy kNative: width and height are the images' own size). Throws Error
  /// when a layer cannot run at that size.
  /// Every forward pass runs `batch` images (default params.batch): a smaller batch is padded
  /// with zero images, whose rows are dropped. So each image's features are the same bits
  /// whatever batch it lands in (resumed runs, shards, the last batch: with Winograd
  /// convolutions, a batch of another size would round differently), and one plan is compiled.
  RowExtractor(FeatureNet& net, const ExtractParams& params, int width, int height,
               ResizePolicy policy, int64_t batch = 0);
  const std::vector<LayerSpec>& layers() const { return layers_; }
  /// The store's root attributes for these features (features/store_attributes.h, the net's
  /// identity attributes, params.extra_attributes); manifest_path and manifest_sha256 name
  /// `dataset` ("" without one).
  std::map<std::string, std::string> attributes(const Dataset* dataset = nullptr) const;
  int width() const { return width_; }
  int height() const { return height_; }
  /// Per layer name, images x dim float rows of a preprocessed batch (to_input) of up to
  /// `batch` images.
  std::map<std::string, FloatArray> rows(const FloatArray& input);
  /// The same for BGR images already at the input size.
  std::map<std::string, FloatArray> extract(const std::vector<cv::Mat>& inputs);
  FeatureNet& net() { return net_; }

 private:
  FeatureNet& net_;
  ExtractParams params_;
  int width_ = 0, height_ = 0;
  std::vector<int> taps_;
  std::vector<LayerSpec> layers_;
  StoreProvenance provenance_;
  int64_t batch_ = 0;  // images per forward pass (smaller batches padded)
};

/// Where the list of skipped images of `out_path` goes: OUT.skipped.tsv (file, reason).
std::string skipped_list_path(const std::string& out_path);

/// Extracts features of every image of `dataset` (which must have image paths) into `out_path`.
/// An image that cannot be decoded (or, at the native size, differs in size from the first) is
/// skipped: listed in OUT.skipped.tsv (columns file, reason) and in the store's attribute
/// skipped_images (the same text); a stale OUT.skipped.tsv is removed. With params.strict the
/// first such image throws Error naming the file instead (nothing is renamed into place; the
/// .partial keeps the rows done so far for a resume). Error when no image at all can be used.
/// The store carries the documented attribute set (features/store_attributes.h), per layer its
/// stored grid and source map, and /meta/gene and /meta/stage_range when the dataset has genes.
/// A resume is refused when the partial holds images the dataset no longer lists, and the
/// writer's own refusals apply (another process writing it, an output that is a folder or a file
/// of another kind).
ExtractResult extract_features(const Dataset& dataset, FeatureNet& net, const ExtractParams& params,
                               const std::string& out_path, const Reporter& reporter = {});

}  // namespace ishannot
