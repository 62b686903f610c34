// Backbones by name, with the default weights that scripts/setup.sh fetches.
#include <filesystem>
#include <nlohmann/json.hpp>

#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/nets/backbone.h"
#include "ishannot/nets/weights_cache.h"

namespace ishannot {
namespace fs = std::filesystem;

std::shared_ptr<Backbone> load_backbone(const std::string& arch, const std::string& weights_path) {
  if (arch == "resnet50") {
    const std::string path = weights_path.empty() ? default_resnet50_weights() : weights_path;
    if (weights_path.empty() && !fs::exists(path)) {
      throw file_error(path,
                       "default ResNet50 weights not found: run scripts/setup.sh (or set "
                       "ISHANNOT_HOME to the folder it filled)");
    }
    // Through the prepared-weights cache (nets/weights_cache.h) unless it is off.
    const std::string cache = weights_cache_dir();
    return cache.empty() ? make_resnet50(load_weights(path)) : load_resnet50_cached(path, cache);
  }
  if (arch == "vgg16") {
    if (weights_path.empty()) {
      throw Error(
          "vgg16 needs --weights FILE: Keras vgg16_weights_tf_dim_ordering_tf_kernels.h5, "
          "a TF.js model.json, or a torchvision state_dict (see README, 'VGG16 weights')");
    }
    return make_vgg16(load_weights(weights_path));
  }
  throw Error("unknown backbone '" + arch + "' (known: resnet50, vgg16)");
}

std::vector<std::string> imagenet_labels() {
  const std::string path = resnet50_package_dir() + "/assets/labels.json";
  nlohmann::json labels;
  try {
    labels = nlohmann::json::parse(read_text_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw file_error(path, std::string("not valid JSON: ") + e.what());
  }
  std::vector<std::string> out(1000);
  for (const auto& [key, value] : labels.items()) {
    const int index = std::stoi(key);
    if (index < 0 || index >= 1000) throw file_error(path, "label index " + key + " out of range");
    out[static_cast<size_t>(index)] = value.get<std::string>();
  }
  return out;
}

}  // namespace ishannot
