#pragma once
// What a CNN feature extractor is, without libtorch: its stages as plain data (the oneDNN plan,
// infer/plan_engine.h, compiles them), its layer names, how pixels become its input, and the
// interface extraction runs a network through (FeatureNet). Two implementations: nets' Backbone
// through libtorch (nets/extract.h, any backbone, fine-tuned ones included) and infer's ResNet50
// from the prepared-weights cache (infer/prepared_weights.h), which never loads libtorch.
#include <array>
#include <cstdint>
#include <map>
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ishannot/features/precision.h"
#include "ishannot/infer/float_array.h"

namespace ishannot {

/// How pixels become network input. Defaults: Caffe/Keras style (BGR, mean subtracted, 0..255).
struct PixelPreprocessing {
  std::string name = "caffe";  ///< "caffe" (Keras weights) or "torchvision"
  bool rgb = false;            ///< feed RGB instead of BGR
  float scale = 1.0f;          ///< pixel value (0..255) is multiplied by this first
  std::array<float, 3> mean = {103.939f, 116.779f, 123.68f};  ///< in the fed channel order
  std::array<float, 3> stdev = {1.0f, 1.0f, 1.0f};            ///< divides after the mean

  static PixelPreprocessing caffe();
  static PixelPreprocessing torchvision();
};

/// One stage of a backbone.
struct LayerInfo {
  std::string name;  ///< "relu4_2", "res4f"
  int number = 0;    ///< paper number (vgg16: 1..36), 0 when the net has none
};

/// Stage index of `text` (a name or paper number) in `layers`; Error listing the valid names.
int resolve_layer(const std::vector<LayerInfo>& layers, const std::string& arch,
                  const std::string& text);
/// A comma-separated list resolved; sorted by stage order, duplicates removed; Error when empty.
std::vector<int> resolve_layers(const std::vector<LayerInfo>& layers, const std::string& arch,
                                const std::string& list);

/// BGR 8-bit images of one size -> preprocessed N x 3 x H x W batch (Error otherwise); its memory
/// from `pool` when given (a loop that makes a batch after batch: FloatArrayPool).
FloatArray to_input(const std::vector<cv::Mat>& bgr_images, const PixelPreprocessing& p,
                    FloatArrayPool* pool = nullptr);

/// A convolution with its folded BatchNorm: OIHW float32 weights (contiguous), a bias of `out`
/// values (null: zero), square kernel and stride, symmetric zero padding, optional ReLU. The
/// pointers belong to the network that made the spec and must outlive what is compiled from it.
struct ConvSpec {
  const float* weight = nullptr;
  uint64_t weight_hash = 0;  ///< fast_hash of `weight`'s values where known (0: hashed when used)
  const float* bias = nullptr;
  int64_t out = 0, in = 0, kernel = 0;
  int stride = 1, padding = 0;
  bool relu = false;
};

/// One stage as the plan sees it; kOther (global pooling, fully connected) ends what it covers.
struct StageSpec {
  enum class Kind { kConv, kRelu, kMaxPool, kBottleneck, kOther };
  Kind kind = Kind::kOther;
  ConvSpec conv;                            ///< kConv
  int kernel = 0, stride = 1, padding = 0;  ///< kMaxPool
  /// kBottleneck: relu(c(relu(b(relu(a(x))))) + shortcut(x)), shortcut = projection or identity.
  ConvSpec a, b, c;
  std::optional<ConvSpec> projection;
};

/// Where a network's weights come from and what a feature store records about it.
struct NetIdentity {
  std::string arch;  ///< "resnet50", "vgg16"
  std::vector<LayerInfo> layers;
  PixelPreprocessing preprocessing;
  std::string weights_path, weights_sha256;
  /// More root attributes for stores made with it (a fine-tuned net's stage range and genes).
  std::map<std::string, std::string> attributes;
};

/// A network as feature extraction runs it: fixed taps and precision, batches in, tap maps out.
class FeatureNet {
 public:
  virtual ~FeatureNet() = default;
  virtual const NetIdentity& identity() const = 0;
  /// The taps (stage indices, sorted) and the arithmetic; called once, before the others.
  /// Error on a CPU without bf16 arithmetic when `precision` is kBf16.
  virtual void set_taps(const std::vector<int>& taps, Precision precision) = 0;
  /// Per-image shapes (C, H, W; C for vectors) of the taps for an n x 3 x height x width input,
  /// without running it. Error when the input is too small for the network.
  virtual std::map<int, std::vector<int64_t>> tap_shapes(int64_t n, int64_t height,
                                                         int64_t width) = 0;
  /// The taps of a preprocessed batch (to_input), each a contiguous N x C x H x W (or N x C)
  /// array.
  virtual TapMaps forward(const FloatArray& input) = 0;
  /// forward() of a batch whose images from `images` on are padding: their outputs are
  /// unspecified (a net may skip work on them), the others are forward()'s, bit for bit.
  virtual TapMaps forward_padded(const FloatArray& input, int64_t images) {
    (void)images;
    return forward(input);
  }
};

}  // namespace ishannot
