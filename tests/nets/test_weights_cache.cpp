// The prepared-weights cache (nets/weights_cache.h) against a direct load of the same file (the
// reference: make_resnet50(load_weights(...)), folding BatchNorm itself): the first load writes
// the cache, the second reads it and gives bit-identical stage weights and taps on a real photo;
// a corrupt (one byte flipped, truncated) or stale (another format version, another source)
// cache file is rebuilt and gives the same again; a cache folder that cannot be made only skips
// the cache.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "ishannot/common/fs_util.h"
#include "ishannot/image/image.h"
#include "ishannot/nets/weights_cache.h"
#include "support/nets_support.h"

using namespace ishannot;
namespace fs = std::filesystem;

namespace {

// Every parameter of `a` equals `b`'s, bit for bit.
void expect_same_parameters(Backbone& a, Backbone& b) {
  const auto pa = a.named_parameters(true), pb = b.named_parameters(true);
  ASSERT_EQ(pa.size(), pb.size());
  for (const auto& item : pa) {
    const torch::Tensor* other = pb.find(item.key());
    ASSERT_NE(other, nullptr) << item.key();
    EXPECT_TRUE(torch::equal(item.value(), *other)) << item.key();
  }
}

torch::Tensor res4f_of_baboon(Backbone& net) {
  torch::InferenceMode guard;
  net.eval();
  const cv::Mat image = resize_for_network(read_image_bgr(test::photo("baboon.jpg")), 320, 128,
                                           ResizePolicy::kSquash);
  return net.forward_taps(net.to_input({image}), net.resolve_layers("res4f")).begin()->second;
}

void flip_byte(const std::string& path, std::streamoff at) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(at);
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x5a);
  f.seekp(at);
  f.write(&c, 1);
}

}  // namespace

TEST(WeightsCache, HitsMatchTheDirectLoadAndBadFilesAreRebuilt) {
  ISHANNOT_SKIP_WITHOUT_WEIGHTS();
  const std::string dir = test::temp_dir("weights-cache") + "/prepared";
  const std::string weights = default_resnet50_weights();
  auto direct = make_resnet50(load_weights(weights));
  const torch::Tensor reference = res4f_of_baboon(*direct);

  WeightsCacheOutcome first, second;
  auto built = load_resnet50_cached(weights, dir, &first);
  EXPECT_FALSE(first.hit);
  EXPECT_EQ(first.rebuilt_why, "no cache");
  EXPECT_EQ(first.write_failed, "");
  ASSERT_TRUE(fs::exists(first.file)) << first.file;
  auto cached = load_resnet50_cached(weights, dir, &second);
  EXPECT_TRUE(second.hit) << second.rebuilt_why;
  EXPECT_EQ(second.file, first.file);
  expect_same_parameters(*cached, *direct);
  EXPECT_EQ(cached->weights_sha256(), direct->weights_sha256());
  EXPECT_EQ(cached->weights_path(), direct->weights_path());
  EXPECT_TRUE(torch::equal(res4f_of_baboon(*cached), reference));

  // One byte of the payload flipped: corrupt, rebuilt, the same weights again.
  flip_byte(first.file, static_cast<std::streamoff>(fs::file_size(first.file) / 2));
  WeightsCacheOutcome flipped;
  auto rebuilt = load_resnet50_cached(weights, dir, &flipped);
  EXPECT_FALSE(flipped.hit);
  EXPECT_NE(flipped.rebuilt_why.find("corrupt"), std::string::npos) << flipped.rebuilt_why;
  expect_same_parameters(*rebuilt, *direct);
  WeightsCacheOutcome after;
  load_resnet50_cached(weights, dir, &after);
  EXPECT_TRUE(after.hit) << after.rebuilt_why;

  // Truncated: corrupt. Another format version (bytes 8..11): stale.
  fs::resize_file(first.file, fs::file_size(first.file) - 100);
  WeightsCacheOutcome truncated;
  load_resnet50_cached(weights, dir, &truncated);
  EXPECT_NE(truncated.rebuilt_why.find("corrupt"), std::string::npos) << truncated.rebuilt_why;
  flip_byte(first.file, 8);
  WeightsCacheOutcome old;
  auto from_old = load_resnet50_cached(weights, dir, &old);
  EXPECT_NE(old.rebuilt_why.find("stale"), std::string::npos) << old.rebuilt_why;
  expect_same_parameters(*from_old, *direct);
  EXPECT_TRUE(torch::equal(res4f_of_baboon(*from_old), reference));
}

TEST(WeightsCache, ChangedSourceIsReadAgainAndAnUnwritableFolderOnlySkipsTheCache) {
  ISHANNOT_SKIP_WITHOUT_WEIGHTS();
  const std::string root = test::temp_dir("weights-cache-source");
  // A copy of the weights whose shard we change: the fingerprint changes, the source is read.
  const fs::path source = fs::path(default_resnet50_weights()).parent_path();
  fs::copy(source, root + "/net", fs::copy_options::recursive);
  const std::string weights = root + "/net/model.json";
  const std::string dir = root + "/prepared";
  WeightsCacheOutcome a, b;
  load_resnet50_cached(weights, dir, &a);
  fs::last_write_time(weights, fs::last_write_time(weights) + std::chrono::seconds(5));
  load_resnet50_cached(weights, dir, &b);
  EXPECT_FALSE(b.hit);
  EXPECT_EQ(b.rebuilt_why, "no cache");  // a new fingerprint: its SHA-256 is not known yet
  EXPECT_EQ(b.file, a.file);             // the same bytes: the same SHA-256, the same file
  // A cache folder that cannot be made (its parent is a file: refused to root too).
  std::ofstream(root + "/a-file") << "not a folder";
  WeightsCacheOutcome c;
  auto net = load_resnet50_cached(weights, root + "/a-file/prepared", &c);
  EXPECT_FALSE(c.write_failed.empty());
  EXPECT_EQ(net->arch(), "resnet50");
}
