#pragma once
// The prepared-weights cache: a backbone's weights as the forward pass uses them (BatchNorm
// folded into the convolutions, OIHW, float32), written once per source weights under the cache
// folder and memory-mapped on later runs, so that a process neither parses, copies nor folds
// them. Every load still reads the whole file once (its payload hash is checked), the stages
// a tap does not need included. Only ResNet50 is cached (the default backbone); VGG16 loads from
// its file every time.
//
// The files, their checks and the torch-free reader: infer/prepared_weights.h. This side builds
// them from the source (libtorch's loaders, BatchNorm folded) and writes them. A cache that cannot
// be written (read-only folder, full disk) is skipped: the network still loads.
#include <memory>
#include <string>

#include "ishannot/infer/prepared_weights.h"
#include "ishannot/nets/backbone.h"

namespace ishannot {

/// What load_backbone_cached did.
struct WeightsCacheOutcome {
  std::string file;          ///< the cache file used or written ("" when none)
  bool hit = false;          ///< the prepared weights came from the cache
  std::string rebuilt_why;   ///< why the source was read: "no cache", "stale: ...", "corrupt: ..."
  std::string write_failed;  ///< why the cache could not be written ("" when it was, or a hit)
};

/// A ResNet50 from `weights_path` through the cache in `dir` (see above). Errors of the source
/// are load_weights' and make_resnet50's.
std::shared_ptr<Backbone> load_resnet50_cached(const std::string& weights_path,
                                               const std::string& dir,
                                               WeightsCacheOutcome* outcome = nullptr);

}  // namespace ishannot
