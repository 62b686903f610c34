#pragma once
// Internal: the extraction pipeline behind extract_features (infer/extract.h). Three stages
// overlap:
//   decode thread:  read + decode + resize + preprocess the next batches (bounded queue of 2)
//   calling thread: forward pass (RowExtractor: the FeatureNet, pooling, rows)
//   write thread:   FeatureStoreWriter::append (bounded queue of 2)
// The forward pass stays on the calling thread: its OpenMP thread count (--threads) is a
// per-thread setting. Batches keep the requested size even when images are skipped (the decode
// thread fills a batch from the next images), and the last one is padded (forward_padded), so
// the forward pass sees one shape.
// Order is kept: rows are appended in the order of `todo`, minus skipped images. Errors raised on
// either thread are rethrown on the calling thread after the batches before them are written.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ishannot/data/dataset.h"
#include "ishannot/image/image.h"
#include "ishannot/infer/extract.h"

namespace ishannot {
class FeatureStoreWriter;
}  // namespace ishannot

namespace ishannot::detail {

/// The network's input size and how images reach it.
struct InputGeometry {
  int width = 0;
  int height = 0;
  ResizePolicy policy = ResizePolicy::kSquash;
};

struct PipelineResult {
  int64_t written = 0;
  std::vector<SkippedImage> skipped;
  double first_batch_at = -1;  ///< seconds_since_process_start() after the first forward pass
};

/// Extracts the rows of `todo` into `writer` through `extractor`. on_written(rows written so far)
/// is called on the calling thread (progress).
PipelineResult run_extract_pipeline(const std::vector<const ImageRecord*>& todo,
                                    RowExtractor& extractor, const InputGeometry& geometry,
                                    const ExtractParams& params, FeatureStoreWriter& writer,
                                    const std::function<void(int64_t)>& on_written);

/// The net's taps of `input` run as a batch of `batch` images: a smaller input is padded with
/// zero images, whose outputs are dropped. Every forward pass of a run then has one shape (one
/// plan), and each image's features are the same bits whatever batch it lands in (resumed runs,
/// shards, the last batch). RowExtractor runs every batch through it.
TapMaps forward_padded(FeatureNet& net, const FloatArray& input, int64_t batch);

/// A tap's map as stored: pooled to params.pool's cells when asked (vectors pass through; torch's
/// adaptive pooling windows: rows [floor(i*H/R), ceil((i+1)*H/R)), the same for columns),
/// flattened per image in (C, H, W) order: an N x D array (the map itself when not pooled).
FloatArray tap_rows(const FloatArray& map, const ExtractParams& params);

/// The problem part of an Error about `path` ("PATH: problem" -> "problem").
std::string problem_of(const std::string& path, const std::string& message);

}  // namespace ishannot::detail
