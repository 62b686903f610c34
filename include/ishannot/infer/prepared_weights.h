#pragma once
// The prepared-weights cache, torch-free side: ResNet50's weights as the forward pass uses them
// (BatchNorm folded into the convolutions, OIHW, float32), written once per source weights under
// the cache folder and memory-mapped on later runs. nets/weights_cache.h builds them from the
// source (libtorch's loaders) and writes them; this header finds, checks and maps them, so that
// a warm `ishannot extract` (infer/prepared_resnet50.h) never loads libtorch.
//
// Files, under `dir` (default <cache>/prepared; ISHANNOT_WEIGHTS_CACHE=off disables, any other
// value names the folder):
//   <fingerprint>.key            the source's SHA-256, for a fingerprint of the source files
//                                (canonical path, and each file's name, size and mtime: a change
//                                to any of them is a new fingerprint, and the source is read
//                                and hashed again)
//   resnet50-<sha256>.v3.bin     "ISHNPREP", format version, a JSON header (arch, source path
//                                and SHA-256, every tensor's name, shape, offset and 64-bit
//                                hash, infer/plan_weights.h fast_hash; the payload's size), then
//                                the 64-byte aligned float32 payload
// A cache file is used only when its magic, version, arch, source SHA-256, size and the hashes
// of the tensors the caller uses are all as expected; otherwise it is stale or corrupt (and nets
// rebuilds it from the source: written to a temporary name, then renamed). A run that uses part
// of the network (extract up to res4f: ~35 of the 102 MB) checks and reads only that part: the
// rest of the file is never touched (every page first touched costs here: ~1 ms per MB).
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace ishannot {

/// The cache folder: $ISHANNOT_WEIGHTS_CACHE, else <cache_dir()>/prepared; "" when the variable
/// is "off".
std::string weights_cache_dir();

/// One prepared tensor: contiguous float32 of `shape`. In a mapped cache file the pages are
/// private copy-on-write: fine-tuning may train them in place without touching the file.
struct PreparedTensor {
  std::vector<int64_t> shape;
  float* data = nullptr;
  uint64_t hash = 0;  ///< infer/plan_weights.h fast_hash of the values, as checked (0: unknown)
};

/// A backbone's prepared weights ("conv1/folded_kernel", "res2a_branch2a/folded_bias", ...,
/// "fc1000/kernel" [out, in]) and their provenance.
struct PreparedWeights {
  std::string path;    ///< the source weights, as the caller named them
  std::string sha256;  ///< the source's SHA-256 (the weights' identity)
  std::map<std::string, PreparedTensor> tensors;
  std::shared_ptr<void> keep;  ///< keeps `tensors` valid (the mapping)
};

/// What a cache lookup found.
struct PreparedLookup {
  std::optional<PreparedWeights> weights;  ///< set on a hit
  std::string file;  ///< the cache file looked at ("" when the key was unknown)
  std::string why;   ///< on a miss: "no cache", "stale: ...", "corrupt: ..."
};

/// The cached prepared ResNet50 weights of the source `weights_path` (a TF.js model.json or its
/// folder, a Keras .h5) in `dir`. Never reads the source's bytes: the key file maps the source's
/// fingerprint to its SHA-256. `only`: the names of the tensors the caller will use (the others
/// are neither checked nor in the result); nullptr: all. Errors of the file system are misses,
/// never exceptions.
PreparedLookup find_prepared_resnet50(const std::string& weights_path, const std::string& dir,
                                      const std::set<std::string>* only = nullptr);

/// Where the cache file of source `sha256` lives in `dir`.
std::string prepared_resnet50_file(const std::string& dir, const std::string& sha256);

/// Writes `weights` (tensors and provenance) as the cache file of its sha256 in `dir`, then the
/// key that maps `weights_path`'s fingerprint to it (each through a temporary name). Returns ""
/// or why not (a read-only folder, a full disk: the caller goes on without a cache).
std::string write_prepared_resnet50(const PreparedWeights& weights, const std::string& weights_path,
                                    const std::string& dir);

}  // namespace ishannot
