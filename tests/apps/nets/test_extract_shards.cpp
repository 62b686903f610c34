// Sharded extraction through the CLI: `extract --shard i/N` on synthetic images, `merge`, and the
// merged store against one unsharded `extract` of the same images, read by h5py (the independent
// reader): same ids in the same order, same values bit for bit, same dtype, same attributes but
// the shard ones and the command lines. The shards use another batch size than the unsharded run
// and cut batches mid-way, so the check also covers batch composition. Then the CLI's errors.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "ishannot/common/fs_util.h"
#include "support/cli_util.h"
#include "support/nets_support.h"
#include "support/test_util.h"

using namespace ishannot;

class ExtractShards : public ::testing::TestWithParam<std::string> {};

TEST_P(ExtractShards, MergedShardsAreBitIdenticalToOneUnshardedExtraction) {
  ISHANNOT_SKIP_WITHOUT_WEIGHTS();
  ISHANNOT_SKIP_WITHOUT_H5PY();
  const std::string dtype = GetParam();
  const std::string dir = test::temp_dir("extract-shards-" + dtype);
  const std::string bin = test::ishannot_binary() + " --quiet ";
  ASSERT_EQ(
      test::run_status(bin + "synth --out " + dir + "/syn --images 41 --stages 13-16 > /dev/null"),
      0);
  const std::string data = dir + "/syn/images.csv";
  // Flattened maps (no pooling): every value of res3d and res4f at 64x64 is compared.
  const std::string common =
      " --data " + data + " --layers res3d,res4f --input-size 64x64" + " --dtype " + dtype;
  ASSERT_EQ(test::run_status(bin + "extract" + common + " --batch 8 --out " + dir + "/whole.h5"),
            0);
  const int shards = dtype == "float32" ? 3 : 2;
  std::string paths;
  for (int i = shards - 1; i >= 0; --i) {  // written, and given to merge, in reverse order
    const std::string shard = dir + "/s" + std::to_string(i) + ".h5";
    ASSERT_EQ(
        test::run_status(bin + "extract" + common + " --batch 5 --shard " + std::to_string(i) +
                         "/" + std::to_string(shards) + " --out " + shard),
        0);
    paths += " " + shard;
  }
  ASSERT_EQ(test::run_status(bin + "merge" + paths + " --block-mb 1 --out " + dir + "/merged.h5"),
            0);
  EXPECT_EQ(test::run_status("/usr/bin/python3 " + test::source_dir() +
                             "/tests/support/h5py_same_store.py " + dir + "/whole.h5 " + dir +
                             "/merged.h5 --dtype " + dtype +
                             " --created-by-prefix 'ishannot --quiet merge ' --merged-shards " +
                             std::to_string(shards)),
            0);
}

INSTANTIATE_TEST_SUITE_P(Dtypes, ExtractShards, ::testing::Values("float32", "float16"));

TEST(ExtractShards, CliErrors) {
  ISHANNOT_SKIP_WITHOUT_WEIGHTS();
  const std::string dir = test::temp_dir("extract-shards-cli");
  const std::string bin = test::ishannot_binary() + " --quiet ";
  ASSERT_EQ(
      test::run_status(bin + "synth --out " + dir + "/syn --images 12 --stages 13-16 > /dev/null"),
      0);
  const std::string extract = bin + "extract --data " + dir + "/syn/images.csv --layers res2a " +
                              "--input-size 32x32 --pool 1x1 ";
  // Bad syntax: a usage error (2), one line quoting the value.
  EXPECT_EQ(test::run_status(extract + "--shard 3/3 --out " + dir + "/x.h5 2> " + dir + "/err.txt"),
            2);
  EXPECT_NE(read_text_file(dir + "/err.txt").find("--shard '3/3': expected i/N"), std::string::npos)
      << read_text_file(dir + "/err.txt");
  EXPECT_EQ(test::run_status(extract + "--shard 1 --out " + dir + "/x.h5 2> /dev/null"), 2);
  // More shards than images: a data error (1) naming the dataset.
  EXPECT_EQ(
      test::run_status(extract + "--shard 0/20 --out " + dir + "/x.h5 2> " + dir + "/err.txt"), 1);
  EXPECT_NE(read_text_file(dir + "/err.txt").find("is empty (use at most 12 shards)"),
            std::string::npos)
      << read_text_file(dir + "/err.txt");
  // A gap: merge refuses (1), one line naming the first shard, writes nothing.
  ASSERT_EQ(test::run_status(extract + "--shard 0/3 --out " + dir + "/a.h5"), 0);
  ASSERT_EQ(test::run_status(extract + "--shard 2/3 --out " + dir + "/c.h5"), 0);
  EXPECT_EQ(test::run_status(bin + "merge " + dir + "/a.h5 " + dir + "/c.h5 --out " + dir +
                             "/m.h5 2> " + dir + "/err.txt"),
            1);
  const std::string err = read_text_file(dir + "/err.txt");
  EXPECT_NE(err.find(dir + "/a.h5: shard 1/3 is missing (gap)"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_FALSE(std::filesystem::exists(dir + "/m.h5"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/m.h5.partial"));
  EXPECT_EQ(test::run_status(bin + "merge --out " + dir + "/m.h5 2> /dev/null"),
            2);  // no shard: usage
}
