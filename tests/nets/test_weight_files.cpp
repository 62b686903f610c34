// Weight loaders on small files the tests write with known values, and the one-line errors for
// bad files (truncated shard, missing shard, wrong architecture, truncated HDF5/zip).
#include <gtest/gtest.h>
#include <hdf5.h>

#include <nlohmann/json.hpp>

#include "ishannot/common/error.h"
#include "ishannot/nets/backbone.h"
#include "support/nets_support.h"
#include "support/test_util.h"

using namespace ishannot;

namespace {

// TF.js: two tensors a [2,3] = 0..5 and b [4] = 10..13, packed back to back and cut, as the
// converter does, into equal shards (16 bytes here) and a shorter last one.
std::string write_tfjs(const std::string& dir) {
  std::vector<float> values = {0, 1, 2, 3, 4, 5, 10, 11, 12, 13};
  const char* bytes = reinterpret_cast<const char*>(values.data());
  std::ofstream(dir + "/s1.bin", std::ios::binary).write(bytes, 16);
  std::ofstream(dir + "/s2.bin", std::ios::binary).write(bytes + 16, 16);
  std::ofstream(dir + "/s3.bin", std::ios::binary).write(bytes + 32, 8);
  nlohmann::json model = {
      {"format", "layers-model"},
      {"modelTopology",
       {{"model_config",
         {{"class_name", "Model"}, {"config", {{"layers", nlohmann::json::array()}}}}}}},
      {"weightsManifest",
       {{{"paths", {"s1.bin", "s2.bin", "s3.bin"}},
         {"weights",
          {{{"name", "dense/kernel"}, {"shape", {2, 3}}, {"dtype", "float32"}},
           {{"name", "model/dense/bias:0"}, {"shape", {4}}, {"dtype", "float32"}}}}}}}};
  std::ofstream(dir + "/model.json") << model.dump();
  return dir + "/model.json";
}

void write_string_array_attribute(hid_t object, const char* name,
                                  const std::vector<std::string>& values) {
  size_t width = 1;
  for (const auto& v : values) width = std::max(width, v.size());
  std::string packed(width * values.size(), '\0');
  for (size_t i = 0; i < values.size(); ++i) packed.replace(i * width, values[i].size(), values[i]);
  hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, width);
  hsize_t n = values.size();
  hid_t space = H5Screate_simple(1, &n, nullptr);
  hid_t attr = H5Acreate2(object, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(attr, type, packed.data());
  H5Aclose(attr);
  H5Sclose(space);
  H5Tclose(type);
}

// Keras HDF5 as save_weights writes it; the conv layer uses Keras-1 names (mapped by position).
std::string write_keras_h5(const std::string& path) {
  hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  write_string_array_attribute(file, "layer_names", {"conv", "bn"});
  auto dataset = [](hid_t group, const std::string& name, std::vector<hsize_t> dims, float first) {
    hsize_t n = 1;
    for (hsize_t d : dims) n *= d;
    std::vector<float> v(n);
    for (hsize_t i = 0; i < n; ++i) v[i] = first + static_cast<float>(i);
    hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t d =
        H5Dcreate2(group, name.c_str(), H5T_IEEE_F32LE, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
    H5Dclose(d);
    H5Pclose(lcpl);
    H5Sclose(space);
  };
  hid_t conv = H5Gcreate2(file, "conv", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  write_string_array_attribute(conv, "weight_names", {"conv_W_1:0", "conv_b_1:0"});
  dataset(conv, "conv_W_1:0", {1, 1, 2, 3}, 0);
  dataset(conv, "conv_b_1:0", {3}, 100);
  H5Gclose(conv);
  hid_t bn = H5Gcreate2(file, "bn", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  write_string_array_attribute(
      bn, "weight_names", {"bn/gamma:0", "bn/beta:0", "bn/moving_mean:0", "bn/moving_variance:0"});
  for (const auto& [n, first] :
       std::vector<std::pair<std::string, float>>{{"bn/gamma:0", 1},
                                                  {"bn/beta:0", 2},
                                                  {"bn/moving_mean:0", 3},
                                                  {"bn/moving_variance:0", 4}}) {
    dataset(bn, n, {2}, first);
  }
  H5Gclose(bn);
  H5Fclose(file);
  return path;
}

}  // namespace

TEST(WeightFiles, TfjsValuesNamesAndHash) {
  const std::string dir = test::temp_dir("tfjs");
  RawWeights w = load_weights(write_tfjs(dir));
  EXPECT_EQ(w.format, WeightFormat::kTfjsLayers);
  ASSERT_EQ(w.tensors.size(), 2u);
  const torch::Tensor& a = w.tensors.at("dense/kernel");
  ASSERT_EQ(a.sizes(), torch::IntArrayRef({2, 3}));
  EXPECT_EQ(a[1][2].item<float>(), 5.0f);
  const torch::Tensor& b = w.tensors.at("dense/bias");  // "model/" prefix and ":0" removed
  EXPECT_EQ(b[3].item<float>(), 13.0f);
  EXPECT_EQ(w.sha256,
            sha256_bytes(read_text_file(dir + "/s1.bin") + read_text_file(dir + "/s2.bin") +
                         read_text_file(dir + "/s3.bin")));
  EXPECT_EQ(load_weights(dir).tensors.size(), 2u);  // a folder holding model.json
}

TEST(WeightFiles, TruncatedAndMissingShardsAreNamed) {
  const std::string dir = test::temp_dir("tfjs-bad");
  const std::string model = write_tfjs(dir);
  const std::string s2 = read_text_file(dir + "/s2.bin");
  test::truncate_file(dir + "/s2.bin", 10);
  std::string message = test::error_text([&] { load_tfjs_layers(model); });
  EXPECT_NE(message.find(dir + "/s2.bin"), std::string::npos) << message;
  EXPECT_NE(message.find("truncated"), std::string::npos) << message;
  std::ofstream(dir + "/s2.bin", std::ios::binary) << s2;  // restore it, cut the last shard instead
  test::truncate_file(dir + "/s3.bin", 4);
  message = test::error_text([&] { load_tfjs_layers(model); });
  EXPECT_NE(message.find(dir + "/s3.bin"), std::string::npos) << message;
  std::filesystem::remove(dir + "/s3.bin");
  message = test::error_text([&] { load_tfjs_layers(model); });
  EXPECT_NE(message.find(dir + "/s3.bin"), std::string::npos) << message;
  EXPECT_NE(message.find("no such file"), std::string::npos) << message;
}

TEST(WeightFiles, KerasH5ByNameAndByPosition) {
  const std::string dir = test::temp_dir("h5");
  RawWeights w = load_weights(write_keras_h5(dir + "/w.h5"));
  EXPECT_EQ(w.format, WeightFormat::kKerasH5);
  ASSERT_EQ(w.tensors.size(), 6u);
  EXPECT_EQ(w.tensors.at("conv/kernel").sizes(), torch::IntArrayRef({1, 1, 2, 3}));
  EXPECT_EQ(w.tensors.at("conv/kernel")[0][0][1][2].item<float>(), 5.0f);
  EXPECT_EQ(w.tensors.at("conv/bias")[2].item<float>(), 102.0f);
  EXPECT_EQ(w.tensors.at("bn/moving_variance")[1].item<float>(), 5.0f);
  test::truncate_file(dir + "/w.h5", 1500);
  const std::string message = test::error_text([&] { load_weights(dir + "/w.h5"); });
  EXPECT_NE(message.find(dir + "/w.h5"), std::string::npos) << message;
}

TEST(WeightFiles, TorchZipStateDict) {
  const std::string dir = test::temp_dir("pth");
  c10::Dict<std::string, torch::Tensor> dict;
  dict.insert("features.0.weight", torch::arange(6, torch::kFloat32).view({1, 2, 3}));
  dict.insert("features.0.bias", torch::tensor({7.0f}, torch::kFloat64));
  const auto bytes = torch::pickle_save(dict);
  std::ofstream(dir + "/w.pth", std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  RawWeights w = load_weights(dir + "/w.pth");
  EXPECT_EQ(w.format, WeightFormat::kTorchStateDict);
  EXPECT_EQ(w.tensors.at("features.0.weight")[0][1][2].item<float>(), 5.0f);
  EXPECT_EQ(w.tensors.at("features.0.bias").scalar_type(), torch::kFloat32);
  test::truncate_file(dir + "/w.pth", bytes.size() / 2);
  const std::string message = test::error_text([&] { load_weights(dir + "/w.pth"); });
  EXPECT_NE(message.find(dir + "/w.pth"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

TEST(WeightFiles, WrongArchitectureIsAOneLineError) {
  const std::string dir = test::temp_dir("arch");
  const std::string model = write_tfjs(dir);
  std::string message = test::error_text([&] { load_backbone("resnet50", model); });
  EXPECT_NE(message.find("no weight 'conv1/kernel'"), std::string::npos) << message;
  EXPECT_NE(message.find(model), std::string::npos) << message;
  RawWeights w;
  w.path = "x.h5";
  w.tensors["conv1/kernel"] = torch::zeros({7, 7, 3, 32});
  message = test::error_text([&] { make_resnet50(w); });
  EXPECT_NE(message.find("has shape [7,7,3,32], resnet50 expects [7,7,3,64]"), std::string::npos)
      << message;
  message = test::error_text([&] { load_weights(dir + "/nothing.bin"); });
  EXPECT_NE(message.find("no such weight file"), std::string::npos) << message;
  message = test::error_text([&] { load_backbone("vgg16", ""); });
  EXPECT_NE(message.find("--weights"), std::string::npos) << message;
}
