// PyTorch zip-format state_dict (torch.save(model.state_dict(), f), PyTorch >= 1.6), read with
// libtorch's own unpickler (torch::pickle_load) rather than a zip/pickle reader of ours.
#include <torch/torch.h>

#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/nets/weights.h"

namespace ishannot {

RawWeights load_torch_state_dict(const std::string& path) {
  const std::string bytes = read_text_file(path);
  if (bytes.size() < 4 || bytes.compare(0, 4, std::string("PK\x03\x04", 4)) != 0) {
    throw file_error(path,
                     "not a zip-format PyTorch file (re-save it with torch.save(state_dict, f) "
                     "from PyTorch >= 1.6)");
  }
  torch::IValue value;
  try {
    value = torch::pickle_load(std::vector<char>(bytes.begin(), bytes.end()));
  } catch (const c10::Error& e) {
    std::string message = e.what_without_backtrace();
    message = message.substr(0, message.find('\n'));
    throw file_error(path, "cannot read PyTorch state_dict (truncated or corrupt?): " + message);
  }
  if (!value.isGenericDict()) throw file_error(path, "holds no dict of tensors (not a state_dict)");
  RawWeights out;
  out.format = WeightFormat::kTorchStateDict;
  out.path = path;
  out.sha256 = sha256_bytes(bytes);
  for (const auto& item : value.toGenericDict()) {
    if (!item.key().isString() || !item.value().isTensor()) continue;
    out.tensors[item.key().toStringRef()] =
        item.value().toTensor().to(torch::kFloat32).contiguous();
  }
  if (out.tensors.empty()) throw file_error(path, "state_dict holds no tensors");
  return out;
}

}  // namespace ishannot
