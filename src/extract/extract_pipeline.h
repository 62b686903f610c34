#pragma once
// Internal: the extraction pipeline behind extract_features. Three stages overlap:
//   decode thread:  read + decode + resize + preprocess the next batches (bounded queue of 2)
//   calling thread: forward pass (InferenceEngine), pooling, rows
//   write thread:   FeatureStoreWriter::append (bounded queue of 2)
// The forward pass stays on the calling thread: its OpenMP thread count (--threads) is a
// per-thread setting. Batches keep the requested size even when images are skipped (the decode
// thread fills a batch from the next images), and the last one is padded (forward_padded), so
// the forward pass sees one shape.
// Order is kept: rows are appended in the order of `todo`, minus skipped images. Errors raised on
// either thread are rethrown on the calling thread after the batches before them are written.
#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include "ishannot/data/dataset.h"
#include "ishannot/image/image.h"
#include "ishannot/nets/extract.h"

namespace ishannot {
class Backbone;
class FeatureStoreWriter;
class InferenceEngine;
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

/// Extracts the rows of `todo` into `writer`, the forward pass through `engine` (built on `net`
/// with `taps`). on_written(rows written so far) is called on the calling thread (progress).
PipelineResult run_extract_pipeline(const std::vector<const ImageRecord*>& todo, Backbone& net,
                                    InferenceEngine& engine, const std::vector<int>& taps,
                                    const InputGeometry& geometry, const ExtractParams& params,
                                    FeatureStoreWriter& writer,
                                    const std::function<void(int64_t)>& on_written);

/// The engine's taps of `input` run as a batch of `batch` images: a smaller input is padded with
/// zero images, whose outputs are dropped. Every forward pass of a run then has one shape (one
/// plan), and each image's features are the same bits whatever batch it lands in (resumed runs,
/// shards, the last batch). extract's pipeline and FeatureExtractor::extract both run through it.
std::map<int, torch::Tensor> forward_padded(InferenceEngine& engine, const torch::Tensor& input,
                                            int64_t batch);

/// A tap's map as stored: pooled to params.pool's cells when asked (vectors pass through),
/// flattened per image in (C, H, W) order; a plain contiguous N x D float tensor.
torch::Tensor tap_rows(const torch::Tensor& map, const ExtractParams& params);

/// The problem part of an Error about `path` ("PATH: problem" -> "problem").
std::string problem_of(const std::string& path, const std::string& message);

}  // namespace ishannot::detail
