#pragma once
// `ishannot export`: a model bundle as an ONNX package (onnx/model_package.h, docs/SHARING.md).
// This part needs the network: the recipe's backbone (or the fine-tuned trunk it names) loaded as
// annotate loads it, turned into plain arrays (onnx/annotator_graph.h ExportNet), and the test
// outputs computed by annotate's own code path (FeatureExtractor + StageAnnotator).
#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "ishannot/annotate/model_bundle.h"
#include "ishannot/common/provenance.h"
#include "ishannot/nets/backbone.h"
#include "ishannot/onnx/annotator_graph.h"
#include "ishannot/onnx/model_package.h"

namespace ishannot {

/// Why the bundle cannot be exported ("" when it can): SC features (dense SIFT and sparse coding
/// have no ONNX form), a native input size (the graph needs one), a backbone or pooling the
/// exporter does not know.
std::string export_refusal(const FeatureRecipe& recipe);

/// The stages of `net` up to the last of `layers`, BatchNorm already folded (as loaded).
ExportNet export_net(const Backbone& net, const std::vector<std::string>& layers, int width,
                     int height);

struct ExportParams {
  std::string weights_override;  ///< the recipe's weights at a new place (SHA-256 checked)
  Provenance provenance;         ///< the package's producer version and created_by
};

/// Everything of the package but the files: the graph bytes and the test tensors (the images,
/// BGR as decoded, resized to the recipe's size here) with ishannot's scores of them. `bundle`
/// gets its stage weights loaded. Throws Error with export_refusal's reason.
ModelPackage make_model_package(ModelBundle& bundle, const std::vector<cv::Mat>& bgr_images,
                                const std::vector<std::string>& image_ids,
                                const ExportParams& params);

}  // namespace ishannot
