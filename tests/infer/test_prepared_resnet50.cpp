// The torch-free ResNet50 (infer/resnet50.h) against the libtorch one: the cache written by
// nets (load_resnet50_cached) read without libtorch, its rows against the torch path's
// (forward_taps, the reference; FeatureExtractor, bit for bit: same folded weights, same plan),
// its topology against make_resnet50's layers, and its refusals (no cache, a corrupt file, taps
// past the plan, bf16 on a CPU without it).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "infer/plan_weights.h"
#include "ishannot/common/error.h"
#include "ishannot/image/image.h"
#include "ishannot/infer/extract.h"
#include "ishannot/infer/prepared_weights.h"
#include "ishannot/infer/resnet50.h"
#include "ishannot/nets/extract.h"
#include "ishannot/nets/weights_cache.h"
#include "support/nets_support.h"
#include "support/torch_support.h"

using namespace ishannot;
namespace fs = std::filesystem;

namespace {

std::vector<cv::Mat> photos() {
  std::vector<cv::Mat> images;
  for (const char* f : {"baboon.jpg", "orange.jpg"})
    images.push_back(
        resize_for_network(read_image_bgr(test::photo(f)), 160, 96, ResizePolicy::kSquash));
  return images;
}

torch::Tensor tensor_of(const FloatArray& a) {
  return torch::from_blob(a.data, a.shape, torch::kFloat).clone();
}

}  // namespace

TEST(PreparedResNet50, TopologyNamesTheTorchNetworksStages) {
  ISHANNOT_SKIP_WITHOUT_WEIGHTS();
  const auto net = make_resnet50(load_weights(default_resnet50_weights()));
  ASSERT_EQ(net->layers().size(), resnet50_topology().size());
  for (size_t i = 0; i < net->layers().size(); ++i)
    EXPECT_EQ(net->layers()[i].name, resnet50_topology()[i].name);
  EXPECT_TRUE(prepared_resnet50_covers("res3d, res4f,res5c"));
  EXPECT_TRUE(prepared_resnet50_covers("conv1,pool1"));
  EXPECT_FALSE(prepared_resnet50_covers("res4f,avg_pool"));
  EXPECT_FALSE(prepared_resnet50_covers("fc1000"));
  EXPECT_FALSE(prepared_resnet50_covers("relu4_2"));  // not a ResNet50 name: libtorch says why
}

TEST(PreparedResNet50, RowsEqualTheLibtorchPathAndBadCachesAreMisses) {
  ISHANNOT_SKIP_WITHOUT_WEIGHTS();
  const std::string dir = test::temp_dir("prepared-resnet50") + "/prepared";
  const std::string weights = default_resnet50_weights();
  PreparedLookup none;
  EXPECT_EQ(prepared_resnet50(weights, dir, &none), nullptr);
  EXPECT_EQ(none.why, "no cache");
  load_resnet50_cached(weights, dir);  // writes the cache

  PreparedLookup hit;
  const auto net = prepared_resnet50(weights, dir, &hit);
  ASSERT_NE(net, nullptr) << hit.why;
  const auto direct = make_resnet50(load_weights(weights));
  EXPECT_EQ(net->identity().weights_sha256, direct->weights_sha256());
  EXPECT_EQ(net->identity().weights_path, direct->weights_path());
  EXPECT_EQ(net->identity().preprocessing.name, "caffe");

  ExtractParams params;
  params.layers = "res3d,res4f";
  RowExtractor rows(*net, params, 160, 96, ResizePolicy::kSquash, 2);
  const auto got = rows.extract(photos());
  FeatureExtractor torch_rows(*direct, params, 160, 96, ResizePolicy::kSquash, 2);
  const auto expected = torch_rows.extract(photos());
  torch::InferenceMode guard;
  const auto reference =
      direct->forward_taps(direct->to_input(photos()), direct->resolve_layers("res3d,res4f"));
  for (const std::string layer : {"res3d", "res4f"}) {
    SCOPED_TRACE(layer);
    const torch::Tensor ours = tensor_of(got.at(layer));
    EXPECT_TRUE(torch::equal(ours, expected.at(layer)));
    const torch::Tensor ref = reference.at(direct->resolve_layer(layer)).flatten(1);
    EXPECT_LT(test::relative_error(ours, ref), 1e-5);
  }
  EXPECT_EQ(rows.attributes().at("weights_sha256"), direct->weights_sha256());

  // A tap the plan does not run, and bf16 where the CPU (simulated) has none.
  const auto other = prepared_resnet50(weights, dir);
  EXPECT_THROW(other->set_taps({direct->resolve_layer("fc1000")}, Precision::kFp32), Error);
  setenv("ISHANNOT_CPU_NO_BF16", "1", 1);
  EXPECT_THROW(other->set_taps({direct->resolve_layer("res4f")}, Precision::kBf16), Error);
  unsetenv("ISHANNOT_CPU_NO_BF16");

  // One byte of the payload flipped: a miss that says so (nets then rebuilds the file).
  {
    std::fstream f(hit.file, std::ios::in | std::ios::out | std::ios::binary);
    const auto at = static_cast<std::streamoff>(fs::file_size(hit.file) / 2);
    f.seekg(at);
    const char c = static_cast<char>(f.get() ^ 0x5a);
    f.seekp(at);
    f.put(c);
  }
  PreparedLookup corrupt;
  EXPECT_EQ(prepared_resnet50(weights, dir, &corrupt), nullptr);
  EXPECT_NE(corrupt.why.find("corrupt"), std::string::npos) << corrupt.why;
}

namespace {

// The payload offset of tensor `name` in a prepared-weights file, read from its JSON header
// (layout: magic 8, version 4, header size 4, header, padding to 64, payload).
std::streamoff tensor_offset(const std::string& file, const std::string& name) {
  std::ifstream in(file, std::ios::binary);
  char head[16];
  in.read(head, 16);
  uint32_t header_bytes = 0;
  std::memcpy(&header_bytes, head + 12, 4);
  std::string text(header_bytes, '\0');
  in.read(text.data(), header_bytes);
  const auto header = nlohmann::json::parse(text);
  const size_t start = (16 + header_bytes + 63) / 64 * 64;
  for (const auto& t : header.at("tensors"))
    if (t.at("name") == name)
      return static_cast<std::streamoff>(start + t.at("offset").get<size_t>());
  ADD_FAILURE() << name << " not in " << file;
  return 0;
}

void flip_byte_at(const std::string& file, std::streamoff at) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(at);
  const char c = static_cast<char>(f.get() ^ 0x5a);
  f.seekp(at);
  f.put(c);
}

}  // namespace

// A run up to res4f checks and reads only conv1..res4f: a damaged res5 tensor does not stop it
// (and its rows equal the whole network's), a damaged res4f tensor does, and so does any damage
// for a run that uses the whole network.
TEST(PreparedResNet50, OnlyTheTensorsOfTheTapsAreChecked) {
  ISHANNOT_SKIP_WITHOUT_WEIGHTS();
  const std::string dir = test::temp_dir("prepared-resnet50-partial") + "/prepared";
  const std::string weights = default_resnet50_weights();
  load_resnet50_cached(weights, dir);
  PreparedLookup hit;
  const auto whole = prepared_resnet50(weights, dir, &hit);
  ASSERT_NE(whole, nullptr) << hit.why;
  ExtractParams params;
  params.layers = "res4f";
  const auto expected =
      RowExtractor(*whole, params, 160, 96, ResizePolicy::kSquash, 2).extract(photos());

  const std::streamoff res5 = tensor_offset(hit.file, "res5c_branch2c/folded_kernel") + 1000;
  flip_byte_at(hit.file, res5);
  PreparedLookup partial;
  const auto up_to_res4f = prepared_resnet50(weights, dir, &partial, "res3d,res4f");
  ASSERT_NE(up_to_res4f, nullptr) << partial.why;
  const auto got =
      RowExtractor(*up_to_res4f, params, 160, 96, ResizePolicy::kSquash, 2).extract(photos());
  torch::InferenceMode guard;
  EXPECT_TRUE(torch::equal(tensor_of(got.at("res4f")), tensor_of(expected.at("res4f"))));
  EXPECT_THROW(
      up_to_res4f->set_taps({static_cast<int>(resnet50_topology().size()) - 3}, Precision::kFp32),
      Error);  // res5c: beyond what it was made for
  PreparedLookup all;
  EXPECT_EQ(prepared_resnet50(weights, dir, &all), nullptr);
  EXPECT_EQ(all.why, "corrupt: res5c_branch2c/folded_kernel: hash differs");
  flip_byte_at(hit.file, res5);  // mended

  // Each tensor read carries the hash it was checked with (PlanWeights' key: not hashed again).
  const std::set<std::string> used = {"conv1/folded_kernel", "res4f_branch2b/folded_kernel"};
  const PreparedLookup lookup = find_prepared_resnet50(weights, dir, &used);
  ASSERT_TRUE(lookup.weights) << lookup.why;
  ASSERT_EQ(lookup.weights->tensors.size(), used.size());
  for (const auto& [name, tensor] : lookup.weights->tensors) {
    size_t count = 1;
    for (int64_t d : tensor.shape) count *= static_cast<size_t>(d);
    EXPECT_EQ(tensor.hash, ishannot::detail::fast_hash(tensor.data, count * sizeof(float))) << name;
  }

  flip_byte_at(hit.file, tensor_offset(hit.file, "res4f_branch2b/folded_bias") + 4);
  PreparedLookup res4f;
  EXPECT_EQ(prepared_resnet50(weights, dir, &res4f, "res4f"), nullptr);
  EXPECT_EQ(res4f.why, "corrupt: res4f_branch2b/folded_bias: hash differs");
  PreparedLookup res3d;
  EXPECT_NE(prepared_resnet50(weights, dir, &res3d, "res3d"), nullptr) << res3d.why;
}
