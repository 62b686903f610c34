// TF.js layers format: model.json holds the Keras topology and a weightsManifest of groups; each
// group's tensors are packed back to back (little-endian) across its shard files, in order.
#include <torch/torch.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/nets/weights.h"

namespace ishannot {
namespace fs = std::filesystem;

namespace {

// "model/res2a_branch2a/kernel:0" -> "res2a_branch2a/kernel".
std::string keras_key(std::string name) {
  if (auto colon = name.rfind(':'); colon != std::string::npos) name.resize(colon);
  auto last = name.rfind('/');
  if (last == std::string::npos) return name;
  auto before = name.rfind('/', last - 1);
  return before == std::string::npos ? name : name.substr(before + 1);
}

// A shard's bytes appended to `out` (one read into place: the weights are ~100 MB).
size_t append_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw file_error(path, fs::exists(path) ? "cannot be read" : "no such file");
  const auto size = static_cast<size_t>(in.tellg());
  in.seekg(0);
  const size_t at = out.size();
  out.resize(at + size);
  in.read(out.data() + at, static_cast<std::streamsize>(size));
  if (static_cast<size_t>(in.gcount()) != size) throw file_error(path, "cannot be read");
  return size;
}

int64_t element_count(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

}  // namespace

RawWeights load_tfjs_layers(const std::string& model_json) {
  nlohmann::json model;
  try {
    model = nlohmann::json::parse(read_text_file(model_json));
  } catch (const nlohmann::json::exception& e) {
    throw file_error(model_json, std::string("not valid JSON: ") + e.what());
  }
  if (!model.contains("weightsManifest") || !model["weightsManifest"].is_array()) {
    throw file_error(model_json, "no weightsManifest: not a TF.js layers model.json");
  }
  RawWeights out;
  out.format = WeightFormat::kTfjsLayers;
  out.path = model_json;
  if (model.contains("modelTopology")) {
    const auto& topology = model["modelTopology"];
    out.topology_json =
        (topology.contains("model_config") ? topology["model_config"] : topology).dump();
  }
  const fs::path folder = fs::path(model_json).parent_path();
  std::vector<std::string> groups;  // every shard, in manifest order: hashed for provenance
  for (const auto& group : model["weightsManifest"]) {
    std::string bytes;
    std::vector<std::pair<std::string, size_t>> shards;  // path, size
    for (const auto& shard : group.at("paths")) {
      const std::string shard_path = (folder / shard.get<std::string>()).string();
      shards.emplace_back(shard_path, append_file(shard_path, bytes));
    }
    // A short group means a truncated shard: the converter writes equal-size shards and a
    // smaller last one, so blame the first short non-last shard, else the last.
    auto truncated = [&](const std::string& name, size_t needed) {
      size_t full = 0;
      for (const auto& s : shards) full = std::max(full, s.second);
      std::string blamed = shards.empty() ? model_json : shards.back().first;
      for (size_t i = 0; i + 1 < shards.size(); ++i) {
        if (shards[i].second < full) {
          blamed = shards[i].first;
          break;
        }
      }
      return file_error(blamed, "truncated weight shard: weight '" + name + "' needs byte " +
                                    std::to_string(needed) + " of its group, the shards hold " +
                                    std::to_string(bytes.size()));
    };
    size_t offset = 0;
    for (const auto& spec : group.at("weights")) {
      const std::string name = spec.at("name").get<std::string>();
      const auto shape = spec.at("shape").get<std::vector<int64_t>>();
      const std::string dtype = spec.value("dtype", "float32");
      const int64_t count = element_count(shape);
      torch::Tensor t;
      if (spec.contains("quantization")) {
        const auto& q = spec["quantization"];
        const std::string qtype = q.value("dtype", "");
        const size_t width = qtype == "uint8" ? 1 : qtype == "uint16" ? 2 : 0;
        if (width == 0 || !q.contains("scale") || !q.contains("min")) {
          throw file_error(model_json,
                           "weight '" + name + "': unsupported quantization '" + qtype + "'");
        }
        if (offset + width * count > bytes.size()) throw truncated(name, offset + width * count);
        const float scale = q["scale"].get<float>(), min = q["min"].get<float>();
        t = torch::empty(shape);
        float* dst = t.data_ptr<float>();
        const auto* src = reinterpret_cast<const unsigned char*>(bytes.data() + offset);
        for (int64_t i = 0; i < count; ++i) {
          const unsigned v = width == 1 ? src[i] : (src[2 * i] | (src[2 * i + 1] << 8));
          dst[i] = v * scale + min;
        }
        offset += width * count;
      } else {
        if (dtype != "float32") {
          throw file_error(model_json,
                           "weight '" + name + "' has dtype " + dtype + "; expected float32");
        }
        if (offset + 4 * count > bytes.size()) throw truncated(name, offset + 4 * count);
        t = torch::empty(shape);
        std::memcpy(t.data_ptr<float>(), bytes.data() + offset, 4 * count);
        offset += 4 * count;
      }
      out.tensors[keras_key(name)] = t;
    }
    if (offset != bytes.size()) {
      throw file_error(model_json, "shards hold " + std::to_string(bytes.size()) +
                                       " bytes but the manifest describes " +
                                       std::to_string(offset));
    }
    groups.push_back(std::move(bytes));
  }
  if (groups.size() == 1) {
    out.sha256 = sha256_bytes(groups[0]);
  } else {
    std::string all_bytes;
    for (const std::string& g : groups) all_bytes += g;
    out.sha256 = sha256_bytes(all_bytes);
  }
  return out;
}

}  // namespace ishannot
