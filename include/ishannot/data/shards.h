#pragma once
// Shards: deterministic contiguous slices of a dataset's images, so that one extraction can be
// split over processes or cluster nodes and merged back (features/merge.h) into the store an
// unsharded run writes. Shard i of N holds images [i*n/N, (i+1)*n/N) in dataset order: the
// shards are disjoint, cover every image, and concatenated in index order give the dataset's order.
//
// A shard's feature store records which slice it is (root attributes, written by `extract
// --shard`):
//   shard               "i/N"
//   shard_total_images  n, the images of the whole dataset
//   shard_ids_sha256    SHA-256 of the whole dataset's ids, each followed by '\n', in dataset order
// so that a merge can prove it has every shard once, of the same dataset, in the same order.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ishannot/data/dataset.h"

namespace ishannot {

/// Shard `index` of `count` ("i/N" on the command line, 0-based like evaluate's folds).
struct ShardSpec {
  int index = 0;  ///< i, 0 <= i < N
  int count = 1;  ///< N >= 1
};

/// Parses "i/N" with 0 <= i < N and N >= 1. Throws Error quoting `text` otherwise.
ShardSpec parse_shard_spec(const std::string& text);

/// "i/N".
std::string shard_text(const ShardSpec& shard);

/// The rows [begin, end) of shard `shard` among `n` images: [i*n/N, (i+1)*n/N).
struct ShardRows {
  int64_t begin = 0;
  int64_t end = 0;
  int64_t size() const { return end - begin; }
};
ShardRows shard_rows(int64_t n, const ShardSpec& shard);

/// SHA-256 of the ids, each followed by '\n' (the shard_ids_sha256 attribute).
std::string ids_sha256(const std::vector<std::string>& ids);

/// The shard's images (same source, skip notes and listed counts as `dataset`). Throws Error
/// naming the dataset when the shard is empty (more shards than images).
Dataset shard_of(const Dataset& dataset, const ShardSpec& shard);

/// The store attributes that describe shard `shard` of `dataset` (see the header comment).
std::map<std::string, std::string> shard_attributes(const Dataset& dataset, const ShardSpec& shard);

}  // namespace ishannot
