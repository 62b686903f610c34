#pragma once
// The prepared-weights cache: a backbone's weights as the forward pass uses them (BatchNorm
// folded into the convolutions, OIHW, float32), written once per source weights under the cache
// folder and memory-mapped on later runs, so that a process neither parses, copies nor folds
// them. Every load still reads the whole file once (its payload hash is checked), the stages
// a tap does not need included. Only ResNet50 is cached (the default backbone); VGG16 loads from
// its file every time.
//
// Files, under `dir` (default <cache>/prepared; ISHANNOT_WEIGHTS_CACHE=off disables, any other
// value names the folder):
//   <fingerprint>.key            the source's SHA-256, for a fingerprint of the source files
//                                (canonical path, and each file's name, size and mtime: a change
//                                to any of them is a new fingerprint, and the source is read
//                                and hashed again)
//   resnet50-<sha256>.v2.bin     "ISHNPREP", format version, a JSON header (arch, source path
//                                and SHA-256, every tensor's name, shape and offset, the
//                                payload's size and 64-bit hash, nets/plan_weights.h fast_hash),
//                                then the 64-byte aligned float32 payload
// A cache file is used only when its magic, version, arch, source SHA-256, size and payload
// hash are all as expected; otherwise it is stale or corrupt and is rebuilt from the source
// (written to a temporary name, then renamed). A cache that cannot be written (read-only
// folder, full disk) is skipped: the network still loads.
#include <memory>
#include <string>

#include "ishannot/nets/backbone.h"

namespace ishannot {

/// What load_backbone_cached did.
struct WeightsCacheOutcome {
  std::string file;          ///< the cache file used or written ("" when none)
  bool hit = false;          ///< the prepared weights came from the cache
  std::string rebuilt_why;   ///< why the source was read: "no cache", "stale: ...", "corrupt: ..."
  std::string write_failed;  ///< why the cache could not be written ("" when it was, or a hit)
};

/// The cache folder: $ISHANNOT_WEIGHTS_CACHE, else <cache_dir()>/prepared; "" when the variable
/// is "off".
std::string weights_cache_dir();

/// A ResNet50 from `weights_path` through the cache in `dir` (see above). Errors of the source
/// are load_weights' and make_resnet50's.
std::shared_ptr<Backbone> load_resnet50_cached(const std::string& weights_path,
                                               const std::string& dir,
                                               WeightsCacheOutcome* outcome = nullptr);

}  // namespace ishannot
