// Merging extraction shards: the merged store against one written in a single pass (read back by
// h5py, the independent reader: same ids, same values bit for bit, same dtype, same attributes
// but the shard ones and created_by), every refusal (gap, overlap, other provenance, other layers,
// other dtype, other dataset, wrong row count, not a shard), and a resumed merge.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "ishannot/common/error.h"
#include "ishannot/data/shards.h"
#include "ishannot/features/feature_store.h"
#include "ishannot/features/merge.h"
#include "support/cli_util.h"
#include "support/test_paths.h"
#include "support/test_util.h"

using namespace ishannot;

namespace {

// Values that are not all float16-exact, so the float16 stores round them (once, when written).
float value_of(int row, int layer, int col) {
  return static_cast<float>(std::sin(row * 13.1 + col * 0.7 + layer) * 100.0);
}

std::vector<LayerSpec> layers(int64_t dim_b = 3) {
  return {{"a", 5, "5x1x1"}, {"bb", dim_b, std::to_string(dim_b) + "x1x1"}};
}

Dataset dataset_of(int n, const std::string& prefix = "img") {
  Dataset d;
  d.source = "memory.csv";
  for (int i = 0; i < n; ++i) {
    ImageRecord r;
    r.id = prefix + std::to_string(i);
    d.images.push_back(r);
  }
  return d;
}

std::map<std::string, std::string> base_attributes() {
  return {{"tool_version", "0.1.0"}, {"backbone", "resnet50"}, {"weights_sha256", "abc"},
          {"pooling", "4x4"},        {"layers", "a,bb"},       {"created_by", "ishannot extract"}};
}

// Rows [begin, end) of `dataset`, in batches of 4, into `path`.
void write_store(const std::string& path, const Dataset& dataset, int64_t begin, int64_t end,
                 FeatureDtype dtype, const std::map<std::string, std::string>& attributes,
                 const std::vector<LayerSpec>& specs = layers()) {
  FeatureStoreWriter w(path, specs, dtype, attributes);
  for (int64_t r0 = begin; r0 < end; r0 += 4) {
    const int64_t r1 = std::min(end, r0 + 4);
    std::vector<std::string> ids;
    std::map<std::string, std::vector<float>> values;
    std::map<std::string, const float*> data;
    for (int64_t r = r0; r < r1; ++r) ids.push_back(dataset.images[static_cast<size_t>(r)].id);
    for (size_t l = 0; l < specs.size(); ++l) {
      auto& v = values[specs[l].name];
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t c = 0; c < specs[l].dim; ++c)
          v.push_back(value_of(static_cast<int>(r), static_cast<int>(l), static_cast<int>(c)));
      data[specs[l].name] = v.data();
    }
    w.append(ids, data);
  }
  w.close();
}

// Shard i of `count` of `dataset`, written as `extract --shard` writes it.
std::string write_shard(const std::string& dir, const Dataset& dataset, ShardSpec spec,
                        FeatureDtype dtype, std::map<std::string, std::string> attributes = {},
                        const std::vector<LayerSpec>& specs = layers()) {
  if (attributes.empty()) attributes = base_attributes();
  for (const auto& [key, value] : shard_attributes(dataset, spec)) attributes[key] = value;
  attributes["created_by"] = "ishannot extract --shard " + shard_text(spec);
  const std::string path =
      dir + "/s" + std::to_string(spec.index) + "of" + std::to_string(spec.count) + ".h5";
  const ShardRows rows = shard_rows(static_cast<int64_t>(dataset.images.size()), spec);
  write_store(path, dataset, rows.begin, rows.end, dtype, attributes, specs);
  return path;
}

std::vector<std::string> write_shards(const std::string& dir, const Dataset& dataset, int count,
                                      FeatureDtype dtype) {
  std::vector<std::string> paths;
  for (int i = 0; i < count; ++i) paths.push_back(write_shard(dir, dataset, {i, count}, dtype));
  return paths;
}

}  // namespace

class MergeShards : public ::testing::TestWithParam<FeatureDtype> {};

TEST_P(MergeShards, EqualTheUnshardedStoreBitForBitReadByH5py) {
  const auto dir = test::temp_dir("merge-equal");
  const Dataset dataset = dataset_of(23);
  write_store(dir + "/whole.h5", dataset, 0, 23, GetParam(), base_attributes());
  auto shards = write_shards(dir, dataset, 4, GetParam());
  std::reverse(shards.begin(), shards.end());  // any order on the command line
  MergeParams params;
  params.block_bytes = 3 * (5 + 3) * 4;  // 3 rows a block: blocks straddle no shard, end early
  params.provenance.command_line = "ishannot merge (test)";
  int reports = 0;
  Reporter reporter;
  reporter.progress = [&](const std::string&, int64_t, int64_t total) {
    EXPECT_EQ(total, 23);
    ++reports;
  };
  const MergeResult r = merge_feature_stores(shards, dir + "/merged.h5", params, reporter);
  EXPECT_EQ(r.shards, 4);
  EXPECT_EQ(r.written, 23);
  EXPECT_GE(reports, 8);  // 4 shards of 5-6 rows in blocks of 3: 8 blocks, + the start
  EXPECT_FALSE(std::filesystem::exists(dir + "/merged.h5.partial"));
  const FeatureStoreReader merged(dir + "/merged.h5");
  EXPECT_EQ(merged.attributes().at("merged_from").substr(0, 29), "0/4: ishannot extract --shard");
  ISHANNOT_SKIP_WITHOUT_H5PY();
  const std::string cmd = "/usr/bin/python3 " + test::source_dir() +
                          "/tests/support/h5py_same_store.py " + dir + "/whole.h5 " + dir +
                          "/merged.h5 --created-by 'ishannot merge (test)'";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
}

INSTANTIATE_TEST_SUITE_P(Dtypes, MergeShards,
                         ::testing::Values(FeatureDtype::kFloat32, FeatureDtype::kFloat16));

TEST(MergeShards, RefusesGapsOverlapsAndOtherExtractions) {
  const auto dir = test::temp_dir("merge-refuse");
  const Dataset dataset = dataset_of(10);
  const auto shards = write_shards(dir, dataset, 3, FeatureDtype::kFloat32);
  auto refusal = [&](const std::vector<std::string>& paths) {
    const std::string e = test::error_text([&] { merge_feature_stores(paths, dir + "/out.h5"); });
    EXPECT_FALSE(std::filesystem::exists(dir + "/out.h5"));
    EXPECT_FALSE(std::filesystem::exists(dir + "/out.h5.partial"));
    return e;
  };
  std::string e = refusal({shards[0], shards[2]});
  EXPECT_NE(e.find("shard 1/3 is missing (gap)"), std::string::npos) << e;
  e = refusal({shards[0], shards[1], shards[1], shards[2]});
  EXPECT_NE(e.find("shard 1/3 given twice"), std::string::npos) << e;
  EXPECT_NE(e.find("overlap"), std::string::npos) << e;

  // Another count of shards, another weights file, other layer sizes, another dtype.
  const std::string other_dir = dir + "/other";
  std::filesystem::create_directories(other_dir);
  const std::string of2 = write_shard(other_dir, dataset, {1, 2}, FeatureDtype::kFloat32);
  e = refusal({shards[0], of2, shards[2]});
  EXPECT_NE(e.find("different shard counts"), std::string::npos) << e;
  auto attributes = base_attributes();
  attributes["weights_sha256"] = "def";
  std::string odd = write_shard(other_dir, dataset, {1, 3}, FeatureDtype::kFloat32, attributes);
  e = refusal({shards[0], odd, shards[2]});
  EXPECT_NE(e.find(odd + ": attribute weights_sha256 is 'def', but 'abc' in " + shards[0]),
            std::string::npos)
      << e;
  odd = write_shard(other_dir, dataset, {1, 3}, FeatureDtype::kFloat32, {}, layers(4));
  e = refusal({shards[0], odd, shards[2]});
  EXPECT_NE(e.find("layers a 5 [5x1x1] float32, bb 4 [4x1x1] float32 differ"), std::string::npos)
      << e;
  odd = write_shard(other_dir, dataset, {1, 3}, FeatureDtype::kFloat16);
  e = refusal({shards[0], odd, shards[2]});
  EXPECT_NE(e.find("float16"), std::string::npos) << e;

  // Shard 1 of another dataset of the same size: the ids hash tells them apart.
  odd = write_shard(other_dir, dataset_of(10, "other"), {1, 3}, FeatureDtype::kFloat32);
  e = refusal({shards[0], odd, shards[2]});
  EXPECT_NE(e.find(odd + ": is a shard of another dataset than " + shards[0] +
                   " (shard_ids_sha256 differs)"),
            std::string::npos)
      << e;

  // A shard with the attributes of 1/3 but the rows of another slice.
  attributes = base_attributes();
  for (const auto& [key, value] : shard_attributes(dataset, {1, 3})) attributes[key] = value;
  attributes["created_by"] = "ishannot extract --shard 1/3";
  odd = other_dir + "/short.h5";
  write_store(odd, dataset, 3, 5, FeatureDtype::kFloat32, attributes);
  e = refusal({shards[0], odd, shards[2]});
  EXPECT_NE(e.find("shard 1/3 has 2 rows, its slice of 10 images has 3"), std::string::npos) << e;

  // A whole store is not a shard.
  write_store(other_dir + "/whole.h5", dataset, 0, 10, FeatureDtype::kFloat32, base_attributes());
  e = refusal({other_dir + "/whole.h5"});
  EXPECT_NE(e.find("not a shard: no shard attribute"), std::string::npos) << e;
  e = refusal({});
  EXPECT_NE(e.find("no shard given"), std::string::npos) << e;
  // The output may not overwrite a shard, however it is spelled.
  e = test::error_text([&] { merge_feature_stores(shards, dir + "/other/../s0of3.h5"); });
  EXPECT_NE(e.find("the output is also one of the shards"), std::string::npos) << e;
  EXPECT_TRUE(std::filesystem::exists(shards[0]));
}

TEST(MergeShards, AnInterruptedMergeResumesToTheSameStore) {
  const auto dir = test::temp_dir("merge-resume");
  const Dataset dataset = dataset_of(17);
  const auto shards = write_shards(dir, dataset, 3, FeatureDtype::kFloat32);
  MergeParams params;
  params.block_bytes = 2 * (5 + 3) * 4;
  Reporter stop_after_two_blocks;
  stop_after_two_blocks.progress = [](const std::string&, int64_t done, int64_t) {
    if (done >= 4) throw std::runtime_error("killed");
  };
  EXPECT_THROW(merge_feature_stores(shards, dir + "/m.h5", params, stop_after_two_blocks),
               std::runtime_error);
  ASSERT_TRUE(std::filesystem::exists(dir + "/m.h5.partial"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/m.h5"));
  params.block_bytes = 5 * (5 + 3) * 4;  // another block size: resumes by rows, not by blocks
  const MergeResult r = merge_feature_stores(shards, dir + "/m.h5", params);
  EXPECT_EQ(r.already_present, 4);
  EXPECT_EQ(r.written, 13);
  const FeatureStoreReader merged(dir + "/m.h5");
  ASSERT_EQ(merged.rows(), 17);
  std::vector<float> b(17 * 3);
  merged.read_rows("bb", 0, 17, b.data());
  for (int r = 0; r < 17; ++r) {
    EXPECT_EQ(merged.ids()[static_cast<size_t>(r)], "img" + std::to_string(r));
    for (int c = 0; c < 3; ++c) EXPECT_EQ(b[static_cast<size_t>(r * 3 + c)], value_of(r, 1, c));
  }
}
