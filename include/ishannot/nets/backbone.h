#pragma once
// Backbone: a pretrained ImageNet CNN used as a fixed feature extractor (the paper's transfer
// learning) or as the trunk to fine-tune. A backbone is a chain of named stages; a "tap" reads the
// output of a stage. forward() runs the chain once for several taps and stops after the last one
// needed (layer 21 of VGG16 needs only a third of the network).
//
// Stage names:
//  - vgg16: the paper's numbering, 1-based, counting every conv, ReLU and max-pool, then
//    fc6 relu6 fc7 relu7 fc8 = 32..36; Caffe names conv1_1 relu1_1 ... pool5. Taps accept either
//    ("21" == "relu4_2"). fc6..fc8 need a 224x224 input and weights that include them.
//  - resnet50 (Keras layout): conv1 (conv+BN+ReLU), pool1, res2a..res2c, res3a..res3d,
//    res4a..res4f, res5a..res5c (block outputs after the ReLU), avg_pool, fc1000 (softmax).
// BatchNorm is folded into the preceding convolution at load time (inference statistics), so
// fine-tuning sees it as a frozen affine map.
#include <torch/nn/module.h>
#include <torch/types.h>

#include <map>
#include <memory>
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ishannot/infer/network.h"
#include "ishannot/infer/resnet50.h"
#include "ishannot/nets/weights.h"

namespace ishannot {

/// A stage: a module mapping the previous stage's output to its own.
class Stage : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(const torch::Tensor& input) = 0;
};

class Backbone : public torch::nn::Module {
 public:
  /// "resnet50" or "vgg16".
  const std::string& arch() const { return arch_; }
  const std::vector<LayerInfo>& layers() const { return layers_; }
  const PixelPreprocessing& preprocessing() const { return preprocessing_; }
  /// Weight file provenance.
  const std::string& weights_path() const { return weights_path_; }
  const std::string& weights_sha256() const { return weights_sha256_; }
  /// Records where the current weights come from (a fine-tuned model replaces the base file).
  void set_weights_provenance(const std::string& path, const std::string& sha256) {
    weights_path_ = path;
    weights_sha256_ = sha256;
  }

  /// Where a fine-tuned network's weights were learnt: its stage range and every gene whose images
  /// it saw. load_finetuned_model sets it; extraction stamps it into the store
  /// (store_attr::kFinetuneGenes), so evaluate's leakage guard holds for any caller.
  struct FinetuneOrigin {
    std::string stage_range;
    std::vector<std::string> genes;
  };
  void set_finetune_origin(FinetuneOrigin origin) { finetune_origin_ = std::move(origin); }
  /// Empty for an ImageNet backbone.
  const std::optional<FinetuneOrigin>& finetune_origin() const { return finetune_origin_; }

  /// Stage index for a name or paper number ("21", "relu4_2"); Error listing valid names.
  int resolve_layer(const std::string& name_or_number) const;
  /// Resolves a comma-separated list; sorted by stage order, duplicates removed.
  std::vector<int> resolve_layers(const std::string& list) const;

  /// Runs stages 0..max(taps) on a preprocessed NCHW float batch, returning each tap's output.
  /// Gradients are tracked only when the caller enables them (fine-tuning).
  std::map<int, torch::Tensor> forward_taps(const torch::Tensor& input,
                                            const std::vector<int>& taps);

  /// The stage modules, in order (InferenceEngine compiles them).
  const std::vector<std::shared_ptr<Stage>>& stages() const { return stages_; }

  /// Runs stages [first, last] on `input` (the output of stage first-1, or the image batch).
  torch::Tensor forward_range(const torch::Tensor& input, int first, int last);

  /// Runs convolutions in channels-last (NHWC) layout, oneDNN's native one: no reorder of
  /// activations between layers. Taps keep their logical (N, C, H, W) shape either way.
  void use_channels_last(bool on);
  bool channels_last() const { return channels_last_; }

  /// BGR 8-bit images of one size -> preprocessed NCHW float batch.
  torch::Tensor to_input(const std::vector<cv::Mat>& bgr_images) const;

  /// Output shape (C, H, W, or C for vectors) of stages 0..last at a given input size, from a
  /// forward pass of a zero image.
  std::vector<std::vector<int64_t>> layer_shapes(int width, int height, int last);

 protected:
  Backbone(std::string arch, PixelPreprocessing preprocessing);
  void add_stage(const std::string& name, int number, std::shared_ptr<Stage> stage);
  void set_provenance(const RawWeights& weights);

 private:
  std::string arch_;
  PixelPreprocessing preprocessing_;
  std::string weights_path_, weights_sha256_;
  std::optional<FinetuneOrigin> finetune_origin_;
  std::vector<LayerInfo> layers_;
  bool channels_last_ = false;
  std::vector<std::shared_ptr<Stage>> stages_;
};

/// Keras ResNet50 (ImageNet top-1 0.749) from Keras-named weights (TF.js or HDF5), or from its
/// prepared form (WeightFormat::kPrepared, resnet50_prepared_weights).
std::shared_ptr<Backbone> make_resnet50(const RawWeights& weights);
/// The prepared form of a ResNet50 made by make_resnet50: each convolution's folded OIHW kernel
/// and bias ("res2a_branch2a/folded_kernel", ".../folded_bias") and fc1000's [out, in] weight
/// and bias, sharing the backbone's tensors (no copy); format kPrepared, the net's provenance.
RawWeights resnet50_prepared_weights(const Backbone& net);
/// VGG16 from Keras weights (block1_conv1..., fc1, fc2, predictions) or a torchvision state_dict.
std::shared_ptr<Backbone> make_vgg16(const RawWeights& weights);

/// Builds a backbone by name ("resnet50", "vgg16") from a weight file ("" = the default, which
/// exists for resnet50 only; vgg16 without weights is an Error explaining how to get them).
/// ResNet50 goes through the prepared-weights cache (nets/weights_cache.h).
std::shared_ptr<Backbone> load_backbone(const std::string& arch, const std::string& weights_path);

/// ImageNet class names (1000) of the default ResNet50 package (assets/labels.json).
std::vector<std::string> imagenet_labels();

}  // namespace ishannot
