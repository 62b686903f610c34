#pragma once
// The whole annotator as one ONNX graph (`ishannot export`, docs/SHARING.md): uint8 RGB images
// in, each stage range's term scores out. Torch-free: the backbone arrives as an `ExportNet`
// (plain arrays: BatchNorm already folded into the convolutions), made from a Backbone by
// nets/onnx_export.h.
//
// Graph, in order:
//   input "image": uint8 [batch, H, W, 3], RGB, already at the recipe's input size (W x H)
//   Cast float -> NHWC to NCHW -> channel order (BGR for Caffe/Keras weights) -> x * scale ->
//   (x - mean) / stdev                                         (the backbone's pixel preprocessing)
//   the backbone's stages up to the last layer the recipe reads: Conv (+ReLU), MaxPool,
//   bottleneck blocks (Conv, Conv, Conv, projection Conv or identity, Add, ReLU),
//   GlobalAveragePool, Gemm
//   per recipe layer: the recipe's pooling (avg GhxGw: MatMul with the adaptive-average matrix,
//   torch's adaptive_avg_pool2d cells; max GhxGw: Slice + ReduceMax per cell; none: the whole
//   map), flattened C-major (C, Gh, Gw), then Concat in the recipe's layer order
//   the bundle's preprocessing: l2 (x / max(||x||, 1e-30): 0 stays 0) | standardise | none
//   per stage range: Gemm with the T*M member weights and biases -> Sigmoid -> [T, M] ->
//   ReduceMean over members -> output "scores_<stage>" (e.g. scores_13_16): float [batch, T],
//   the bundle's term order. These are annotate's `score` column.
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ishannot/annotate/model_bundle.h"
#include "ishannot/onnx/onnx_graph.h"

namespace ishannot {

/// A convolution (or fully connected layer) with BatchNorm folded in.
struct ExportConv {
  std::vector<float> weight;  ///< OIHW (fc: [out, in])
  std::vector<int64_t> dims;  ///< weight dims
  std::vector<float> bias;    ///< [out]
  int stride = 1, padding = 0;
  bool relu = false;
  bool empty() const { return weight.empty(); }
};

struct ExportStage {
  enum class Kind { kConv, kRelu, kMaxPool, kBottleneck, kGlobalAvgPool, kLinear };
  std::string name;  ///< the backbone's stage name ("conv1", "res4f")
  Kind kind = Kind::kConv;
  ExportConv conv;                          ///< kConv, kLinear
  std::array<ExportConv, 4> block;          ///< kBottleneck: a, b, c, projection (empty: identity)
  int kernel = 0, stride = 0, padding = 0;  ///< kMaxPool
  bool softmax = false;                     ///< kLinear
};

/// A backbone in export form.
struct ExportNet {
  std::string arch;
  std::vector<ExportStage> stages;  ///< from the input up to the last one needed
  bool rgb = false;                 ///< channel order the network takes
  float scale = 1.0f;
  std::array<float, 3> mean{}, stdev{1, 1, 1};
  int width = 0, height = 0;  ///< input size
};

/// Output name of a stage range's scores: "scores_" + stage with '-' as '_'.
std::string score_output_name(const std::string& stage_range);

/// Builds the graph. `bundle`'s stages must have their weights loaded (load_stage_weights).
/// Throws Error when the recipe cannot be expressed (a layer the net lacks, a map shape the recipe
/// does not record, an unknown pooling).
/// Throws Error naming the stage for an attention-MIL bag stage (annotator_graph_check).
OnnxGraph annotator_graph(const ExportNet& net, const ModelBundle& bundle);

/// The backbone alone, as a feature extractor another runtime can run (bench/ort_peer.js): the
/// same input "image" and pixel preprocessing as annotator_graph, the stages up to the last of
/// `layers`, and one float output per layer, "features_" + its name: [batch, C, H, W] maps (plain
/// NCHW: flattened, what `extract --pool none` stores) or [batch, N] vectors. Error naming a layer
/// that is not a stage of `net`.
OnnxGraph backbone_graph(const ExportNet& net, const std::vector<std::string>& layers);

/// The bundle-level refusals of annotator_graph, before any work: an attention-MIL bag stage
/// scores a group of images together and has no single-image form (Error naming the stage).
void annotator_graph_check(const ModelBundle& bundle);

/// Adaptive average pooling of an H x W map to Gh x Gw cells as a [H*W, Gh*Gw] matrix (cell
/// (i, j) covers rows floor(i*H/Gh) .. ceil((i+1)*H/Gh) - 1, the same for columns: torch's rule).
std::vector<float> adaptive_average_matrix(int h, int w, int gh, int gw);

}  // namespace ishannot
