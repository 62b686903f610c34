// Keras HDF5 weights: a group per layer under the root (save_weights) or under /model_weights
// (model.save); the layer order is the root attribute layer_names, each layer's tensors are named
// by its attribute weight_names ("block1_conv1/kernel:0", or "block1_conv1_W_1:0" in files from
// Keras 1, which we map by position).
#include <hdf5.h>
#include <torch/torch.h>

#include <filesystem>

#include "detail/hdf5_util.h"
#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/nets/weights.h"

namespace ishannot {
namespace {

std::string read_scalar_string_attribute(hid_t object, const char* name, const std::string& path) {
  auto v = detail::read_string_attribute(object, name, path);
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
  detail::silence_hdf5();  // errors are reported by us, one line
  if (H5Fis_hdf5(path.c_str()) <= 0) throw file_error(path, "not an HDF5 file");
  const detail::Hid file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  if (!file.valid()) throw file_error(path, "cannot open as HDF5 (truncated or corrupt?)");
  RawWeights out;
  out.format = WeightFormat::kKerasH5;
  out.path = path;
  out.sha256 = sha256_file(path);
  hid_t root_id = file.get();
  detail::Hid model_weights;
  if (H5Lexists(file.get(), "model_weights", H5P_DEFAULT) > 0) {
    model_weights = detail::Hid(H5Gopen2(file.get(), "model_weights", H5P_DEFAULT));
    root_id = model_weights.get();
    out.topology_json = read_scalar_string_attribute(file.get(), "model_config", path);
  }
  const auto layer_names = detail::read_string_attribute(root_id, "layer_names", path);
  if (layer_names.empty())
    throw file_error(path, "no layer_names attribute: not a Keras weight file");
  for (const std::string& layer : layer_names) {
    if (H5Lexists(root_id, layer.c_str(), H5P_DEFAULT) <= 0) {
      throw file_error(
          path, "layer '" + layer + "' is listed in layer_names but missing (truncated file?)");
    }
    const detail::Hid group(H5Gopen2(root_id, layer.c_str(), H5P_DEFAULT));
    const auto weight_names = detail::read_string_attribute(group.get(), "weight_names", path);
    for (size_t i = 0; i < weight_names.size(); ++i) {
      const std::string& wname = weight_names[i];
      const detail::Hid dataset(H5Dopen2(group.get(), wname.c_str(), H5P_DEFAULT));
      if (!dataset.valid())
        throw file_error(path, "cannot open dataset " + layer + "/" + wname + " (truncated file?)");
      const detail::Hid space(H5Dget_space(dataset.get()));
      const int rank = H5Sget_simple_extent_ndims(space.get());
      std::vector<hsize_t> dims(static_cast<size_t>(std::max(rank, 0)));
      H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
      std::vector<int64_t> shape(dims.begin(), dims.end());
      torch::Tensor t = torch::empty(shape);
      if (H5Dread(dataset.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT,
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
