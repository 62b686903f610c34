#pragma once
// Merging the shards of one extraction (`extract --shard i/N`, data/shards.h) into the feature
// store an unsharded run writes: the same /ids in the same order, the same /features/<layer> values
// bit for bit, the same dtype and the same attributes, except
//   shard, shard_total_images, shard_ids_sha256   dropped (the merged store is whole)
//   created_by                                    the merge's command line (MergeParams)
//   merged_from                                   new: "i/N: <the shard's created_by>", one a line
// Before writing anything the shards are checked: each is a shard (has the attributes above) of the
// same dataset (same shard count, image count and ids hash), every index 0..N-1 is there exactly
// once (no gap, no overlap), each holds exactly its slice's row count, no id is in two shards, the
// concatenated ids hash to the dataset's, and every other attribute (tool_version, backbone,
// weights_sha256, input_size, pooling, layers, finetune_genes ...), every layer (name, dim, shape)
// and every dtype is identical. A mismatch throws Error naming the files and the difference.
//
// The copy streams row blocks (MergeParams::block_bytes of float32 at a time), so stores larger
// than memory merge; the output is written as OUT.partial and renamed when complete, and an
// interrupted merge resumes from OUT.partial like an interrupted extraction.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ishannot/common/progress.h"
#include "ishannot/common/provenance.h"
#include "ishannot/features/feature_store.h"

namespace ishannot {

struct MergeParams {
  /// Memory for one row block, all layers together, as float32 (>= one row is always read).
  int64_t block_bytes = int64_t{64} << 20;
  bool resume = true;  ///< continue OUT.partial when it exists and is compatible
  /// Its command_line is the merged store's created_by ("": the first shard's is kept); the
  /// shards' tool_version and seed are kept (they must agree).
  Provenance provenance;
  std::string check() const;
};

/// What the checks found: the shards in index order and the merged store's description.
struct ShardSet {
  std::vector<std::string> paths;  ///< shard stores, index 0 first
  std::vector<int64_t> rows;       ///< rows of each
  int64_t total_rows = 0;
  std::vector<LayerSpec> layers;
  FeatureDtype dtype = FeatureDtype::kFloat32;
  std::map<std::string, std::string> attributes;  ///< of the merged store (header comment)
};

/// Reads the shards' headers and ids and checks them (header comment); Error on any mismatch.
ShardSet check_shards(const std::vector<std::string>& paths, const MergeParams& params = {});

struct MergeResult {
  int shards = 0;
  int64_t written = 0;          ///< rows copied by this run
  int64_t already_present = 0;  ///< rows found in OUT.partial and skipped
  std::vector<LayerSpec> layers;
  FeatureDtype dtype = FeatureDtype::kFloat32;
  double seconds = 0;
};

/// Checks the shards (check_shards) and writes their rows, in index order, to `out_path`.
MergeResult merge_feature_stores(const std::vector<std::string>& paths, const std::string& out_path,
                                 const MergeParams& params = {}, const Reporter& reporter = {});

}  // namespace ishannot
