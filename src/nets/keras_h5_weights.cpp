// Keras HDF5 weights: a group per layer under the root (save_weights) or under /model_weights
// (model.save); the layer order is the root attribute layer_names, each layer's tensors are named
// by its attribute weight_names ("block1_conv1/kernel:0", or "block1_conv1_W_1:0" in files from
// Keras 1, which we map by position).
#include <hdf5.h>
#include <torch/torch.h>

#include <filesystem>

#include "ishannot/error.h"
#include "ishannot/fs_util.h"
#include "ishannot/nets/weights.h"

namespace ishannot {
namespace {

// Closes an HDF5 handle on scope exit.
struct H5Handle {
  hid_t id;
  herr_t (*close)(hid_t);
  H5Handle(hid_t i, herr_t (*c)(hid_t)) : id(i), close(c) {}
  ~H5Handle() {
    if (id >= 0) close(id);
  }
  H5Handle(const H5Handle&) = delete;
  H5Handle& operator=(const H5Handle&) = delete;
};

// Reads a string-array attribute (fixed-length or variable-length strings).
std::vector<std::string> read_string_attribute(hid_t object, const char* name,
                                               const std::string& path) {
  if (H5Aexists(object, name) <= 0) return {};
  H5Handle attr(H5Aopen(object, name, H5P_DEFAULT), H5Aclose);
  H5Handle type(H5Aget_type(attr.id), H5Tclose);
  H5Handle space(H5Aget_space(attr.id), H5Sclose);
  if (H5Tget_class(type.id) != H5T_STRING)
    throw file_error(path, std::string("attribute ") + name + " is not a string array");
  const hssize_t n = H5Sget_simple_extent_npoints(space.id);
  std::vector<std::string> out;
  if (H5Tis_variable_str(type.id) > 0) {
    std::vector<char*> raw(static_cast<size_t>(n));
    H5Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem.id, H5T_VARIABLE);
    if (H5Aread(attr.id, mem.id, raw.data()) < 0)
      throw file_error(path, std::string("cannot read attribute ") + name);
    for (char* s : raw) out.emplace_back(s ? s : "");
    H5Dvlen_reclaim(mem.id, space.id, H5P_DEFAULT, raw.data());
  } else {
    const size_t width = H5Tget_size(type.id);
    std::vector<char> raw(width * static_cast<size_t>(n) + 1, '\0');
    if (H5Aread(attr.id, type.id, raw.data()) < 0)
      throw file_error(path, std::string("cannot read attribute ") + name);
    for (hssize_t i = 0; i < n; ++i) {
      std::string s(raw.data() + i * width, width);
      s.resize(std::strlen(s.c_str()));
      out.push_back(s);
    }
  }
  return out;
}

std::string read_scalar_string_attribute(hid_t object, const char* name, const std::string& path) {
  auto v = read_string_attribute(object, name, path);
  return v.empty() ? "" : v.front();
}

// The role of a tensor in its layer: "kernel", "bias", "gamma", ... from its name, or from its
// position when the name is of the Keras 1 kind.
std::string role_of(const std::string& weight_name, size_t position, size_t count) {
  std::string name = weight_name;
  if (auto colon = name.rfind(':'); colon != std::string::npos) name.resize(colon);
  if (auto slash = name.rfind('/'); slash != std::string::npos) name = name.substr(slash + 1);
  for (const char* role : {"kernel", "bias", "gamma", "beta", "moving_mean", "moving_variance"}) {
    if (name == role) return role;
  }
  static const char* two[] = {"kernel", "bias"};
  static const char* four[] = {"gamma", "beta", "moving_mean", "moving_variance"};
  if (count == 2) return two[position];
  if (count == 4) return four[position];
  return name;
}

}  // namespace

RawWeights load_keras_h5(const std::string& path) {
  if (!std::filesystem::exists(path)) throw file_error(path, "no such weight file");
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // errors are reported by us, one line
  if (H5Fis_hdf5(path.c_str()) <= 0) throw file_error(path, "not an HDF5 file");
  H5Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (file.id < 0) throw file_error(path, "cannot open as HDF5 (truncated or corrupt?)");
  RawWeights out;
  out.format = WeightFormat::kKerasH5;
  out.path = path;
  out.sha256 = sha256_file(path);
  hid_t root_id = file.id;
  std::unique_ptr<H5Handle> model_weights;
  if (H5Lexists(file.id, "model_weights", H5P_DEFAULT) > 0) {
    model_weights =
        std::make_unique<H5Handle>(H5Gopen2(file.id, "model_weights", H5P_DEFAULT), H5Gclose);
    root_id = model_weights->id;
    out.topology_json = read_scalar_string_attribute(file.id, "model_config", path);
  }
  const auto layer_names = read_string_attribute(root_id, "layer_names", path);
  if (layer_names.empty())
    throw file_error(path, "no layer_names attribute: not a Keras weight file");
  for (const std::string& layer : layer_names) {
    if (H5Lexists(root_id, layer.c_str(), H5P_DEFAULT) <= 0) {
      throw file_error(
          path, "layer '" + layer + "' is listed in layer_names but missing (truncated file?)");
    }
    H5Handle group(H5Gopen2(root_id, layer.c_str(), H5P_DEFAULT), H5Gclose);
    const auto weight_names = read_string_attribute(group.id, "weight_names", path);
    for (size_t i = 0; i < weight_names.size(); ++i) {
      const std::string& wname = weight_names[i];
      H5Handle dataset(H5Dopen2(group.id, wname.c_str(), H5P_DEFAULT), H5Dclose);
      if (dataset.id < 0)
        throw file_error(path, "cannot open dataset " + layer + "/" + wname + " (truncated file?)");
      H5Handle space(H5Dget_space(dataset.id), H5Sclose);
      const int rank = H5Sget_simple_extent_ndims(space.id);
      std::vector<hsize_t> dims(static_cast<size_t>(std::max(rank, 0)));
      H5Sget_simple_extent_dims(space.id, dims.data(), nullptr);
      std::vector<int64_t> shape(dims.begin(), dims.end());
      torch::Tensor t = torch::empty(shape);
      if (H5Dread(dataset.id, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                  t.data_ptr<float>()) < 0) {
        throw file_error(
            path, "cannot read dataset " + layer + "/" + wname + " (truncated or corrupt file?)");
      }
      out.tensors[layer + "/" + role_of(wname, i, weight_names.size())] = t;
    }
  }
  return out;
}

}  // namespace ishannot
