#pragma once
// Weight files, read into tensors in the layout of the format that wrote them. Each backbone then
// maps a format's names and layouts to its own (nets/resnet50.cpp, nets/vgg16.cpp).
//
// Formats:
//  - TF.js layers format: model.json (modelTopology + weightsManifest) + binary shards; Keras names
//    ("res2a_branch2a/kernel"), kernels HWIO, dense kernels [in, out].
//  - Keras HDF5 (model.save_weights / the .h5 files Keras users download): root attribute
//    layer_names, per-layer attribute weight_names; same names and layouts as TF.js. Files saved
//    with model.save() (weights under /model_weights) are accepted too.
//  - PyTorch zip state_dict (torch.save(model.state_dict(), f) since PyTorch 1.6): torchvision
//  names
//    ("features.0.weight"), kernels OIHW, linear weights [out, in].
#include <torch/types.h>

#include <map>
#include <string>
#include <vector>

namespace ishannot {

/// kPrepared: a backbone's own prepared form (BatchNorm folded, OIHW), read from the weights
/// cache (nets/weights_cache.h); `path` and `sha256` name the source weights it was made from.
enum class WeightFormat { kTfjsLayers, kKerasH5, kTorchStateDict, kPrepared };

std::string to_string(WeightFormat format);

/// Tensors read from a weight file, keyed by the file's own names ("layer/kernel" for Keras
/// formats: the ":0" suffix and any duplicated layer prefix are removed).
struct RawWeights {
  WeightFormat format = WeightFormat::kTfjsLayers;
  std::string path;    ///< the file read (model.json for TF.js)
  std::string sha256;  ///< of the file (TF.js: of model.json and all shards, in order)
  std::map<std::string, torch::Tensor> tensors;  ///< float32, contiguous, CPU
  std::string topology_json;  ///< TF.js/Keras: the model's config as JSON text ("" if absent)
};

/// Reads a TF.js layers model (model.json + shards beside it). Errors name the file: missing
/// shard, truncated shard (fewer bytes than the manifest says), unsupported dtype/quantization.
RawWeights load_tfjs_layers(const std::string& model_json);

/// Reads a Keras HDF5 weight file.
RawWeights load_keras_h5(const std::string& path);

/// Reads a PyTorch zip-format state_dict (a dict of name -> tensor).
RawWeights load_torch_state_dict(const std::string& path);

/// Picks the loader by content: a model.json (or a folder holding one), an HDF5 file, a zip file.
RawWeights load_weights(const std::string& path);

/// Checks a tensor's shape; throws Error "PATH: weight NAME has shape [..], ARCH expects [..]".
void expect_shape(const RawWeights& weights, const std::string& name,
                  const std::vector<int64_t>& shape, const std::string& arch);

/// The tensor called `name`, or Error "PATH: no weight NAME (ARCH expects it)".
const torch::Tensor& weight_at(const RawWeights& weights, const std::string& name,
                               const std::string& arch);

}  // namespace ishannot
