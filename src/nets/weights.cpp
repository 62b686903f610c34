// Format detection and the checks every backbone applies to the tensors it takes.
#include "ishannot/nets/weights.h"

#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "ishannot/common/error.h"

namespace ishannot {
namespace fs = std::filesystem;

std::string to_string(WeightFormat format) {
  switch (format) {
    case WeightFormat::kTfjsLayers:
      return "tfjs-layers";
    case WeightFormat::kKerasH5:
      return "keras-h5";
    case WeightFormat::kTorchStateDict:
      return "torch-state-dict";
    case WeightFormat::kPrepared:
      return "prepared";
  }
  return "?";
}

namespace {

std::string shape_text(c10::IntArrayRef shape) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < shape.size(); ++i) out << (i ? "," : "") << shape[i];
  out << "]";
  return out.str();
}

}  // namespace

const torch::Tensor& weight_at(const RawWeights& weights, const std::string& name,
                               const std::string& arch) {
  auto it = weights.tensors.find(name);
  if (it == weights.tensors.end()) {
    throw file_error(weights.path, "no weight '" + name + "' (" + arch +
                                       " expects it; the file has " +
                                       std::to_string(weights.tensors.size()) +
                                       " tensors: is it a " + arch + " weight file?)");
  }
  return it->second;
}

void expect_shape(const RawWeights& weights, const std::string& name,
                  const std::vector<int64_t>& shape, const std::string& arch) {
  const torch::Tensor& t = weight_at(weights, name, arch);
  if (t.sizes() != c10::IntArrayRef(shape)) {
    throw file_error(weights.path, "weight '" + name + "' has shape " + shape_text(t.sizes()) +
                                       ", " + arch + " expects " + shape_text(shape));
  }
}

RawWeights load_weights(const std::string& path) {
  if (!fs::exists(path)) throw file_error(path, "no such weight file");
  if (fs::is_directory(path)) {
    if (fs::exists(fs::path(path) / "model.json"))
      return load_tfjs_layers((fs::path(path) / "model.json").string());
    throw file_error(path, "folder holds no model.json (TF.js layers format)");
  }
  std::ifstream in(path, std::ios::binary);
  char magic[8] = {};
  in.read(magic, sizeof magic);
  if (in.gcount() >= 8 && std::string(magic, 8) == std::string("\x89HDF\r\n\x1a\n", 8)) {
    return load_keras_h5(path);
  }
  if (in.gcount() >= 4 && std::string(magic, 4) == std::string("PK\x03\x04", 4)) {
    return load_torch_state_dict(path);
  }
  if (fs::path(path).extension() == ".json") return load_tfjs_layers(path);
  throw file_error(path,
                   "unknown weight format (expected TF.js model.json, Keras .h5, or PyTorch zip "
                   "state_dict)");
}

}  // namespace ishannot
