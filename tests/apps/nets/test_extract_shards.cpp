// Sharded extraction through the CLI: `extract --shard i/N` on synthetic images, `merge`, and the
// merged store against one unsharded `extract` of the same images, read by h5py (the independent
// reader): same ids in the same order, same values bit for bit, same dtype, same attributes but
// the shard ones and the command lines. The shards use another batch size than the unsharded run
// and cut batches mid-way, so the check also covers batch composition. Then the CLI's errors.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "support/nets_support.h"
#include "support/test_util.h"

using namespace ishannot;

namespace {

int run(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

const char* kCompareScript = R"(import h5py, sys
a, b = h5py.File(sys.argv[1], 'r'), h5py.File(sys.argv[2], 'r')
text = lambda v: v.decode() if isinstance(v, bytes) else str(v)
assert [text(i) for i in a['ids'][:]] == [text(i) for i in b['ids'][:]], 'ids differ'
assert sorted(a['features']) == sorted(b['features']), 'layers differ'
for name in a['features']:
    x, y = a['features'][name], b['features'][name]
    assert x.dtype == y.dtype and str(x.dtype) == sys.argv[3], (name, x.dtype, y.dtype)
    assert x.shape == y.shape, (name, x.shape, y.shape)
    assert x[()].tobytes() == y[()].tobytes(), name + ': values differ'
skip = {'created_by', 'merged_from'}
attrs = lambda f: {k: text(v) for k, v in f.attrs.items() if k not in skip}
assert attrs(a) == attrs(b), (attrs(a), attrs(b))
assert text(b.attrs['created_by']).startswith('ishannot --quiet merge '), b.attrs['created_by']
assert text(b.attrs['merged_from']).count('--shard') == int(sys.argv[4]), b.attrs['merged_from']
print('identical', a['ids'].shape[0], 'rows')
)";

}  // namespace

class ExtractShards : public ::testing::TestWithParam<std::string> {};

TEST_P(ExtractShards, MergedShardsAreBitIdenticalToOneUnshardedExtraction) {
  ISHANNOT_SKIP_WITHOUT_WEIGHTS();
  if (run("/usr/bin/python3 -c 'import h5py' > /dev/null 2>&1") != 0)
    GTEST_SKIP() << "python3-h5py (the independent reader) is not installed";
  const std::string dtype = GetParam();
  const std::string dir = test::temp_dir("extract-shards-" + dtype);
  const std::string bin = test::ishannot_binary() + " --quiet ";
  ASSERT_EQ(run(bin + "synth --out " + dir + "/syn --images 41 --stages 13-16 > /dev/null"), 0);
  const std::string data = dir + "/syn/images.csv";
  // Flattened maps (no pooling): every value of res3d and res4f at 64x64 is compared.
  const std::string common =
      " --data " + data + " --layers res3d,res4f --input-size 64x64" + " --dtype " + dtype;
  ASSERT_EQ(run(bin + "extract" + common + " --batch 8 --out " + dir + "/whole.h5"), 0);
  const int shards = dtype == "float32" ? 3 : 2;
  std::string paths;
  for (int i = shards - 1; i >= 0; --i) {  // written, and given to merge, in reverse order
    const std::string shard = dir + "/s" + std::to_string(i) + ".h5";
    ASSERT_EQ(run(bin + "extract" + common + " --batch 5 --shard " + std::to_string(i) + "/" +
                  std::to_string(shards) + " --out " + shard),
              0);
    paths += " " + shard;
  }
  ASSERT_EQ(run(bin + "merge" + paths + " --block-mb 1 --out " + dir + "/merged.h5"), 0);
  std::ofstream(dir + "/compare.py") << kCompareScript;
  EXPECT_EQ(run("/usr/bin/python3 " + dir + "/compare.py " + dir + "/whole.h5 " + dir +
                "/merged.h5 " + dtype + " " + std::to_string(shards)),
            0);
}

INSTANTIATE_TEST_SUITE_P(Dtypes, ExtractShards, ::testing::Values("float32", "float16"));

TEST(ExtractShards, CliErrors) {
  ISHANNOT_SKIP_WITHOUT_WEIGHTS();
  const std::string dir = test::temp_dir("extract-shards-cli");
  const std::string bin = test::ishannot_binary() + " --quiet ";
  ASSERT_EQ(run(bin + "synth --out " + dir + "/syn --images 12 --stages 13-16 > /dev/null"), 0);
  const std::string extract = bin + "extract --data " + dir + "/syn/images.csv --layers res2a " +
                              "--input-size 32x32 --pool 1x1 ";
  // Bad syntax: a usage error (2), one line quoting the value.
  EXPECT_EQ(run(extract + "--shard 3/3 --out " + dir + "/x.h5 2> " + dir + "/err.txt"), 2);
  EXPECT_NE(read_file(dir + "/err.txt").find("--shard '3/3': expected i/N"), std::string::npos)
      << read_file(dir + "/err.txt");
  EXPECT_EQ(run(extract + "--shard 1 --out " + dir + "/x.h5 2> /dev/null"), 2);
  // More shards than images: a data error (1) naming the dataset.
  EXPECT_EQ(run(extract + "--shard 0/20 --out " + dir + "/x.h5 2> " + dir + "/err.txt"), 1);
  EXPECT_NE(read_file(dir + "/err.txt").find("is empty (use at most 12 shards)"), std::string::npos)
      << read_file(dir + "/err.txt");
  // A gap: merge refuses (1), one line naming the first shard, writes nothing.
  ASSERT_EQ(run(extract + "--shard 0/3 --out " + dir + "/a.h5"), 0);
  ASSERT_EQ(run(extract + "--shard 2/3 --out " + dir + "/c.h5"), 0);
  EXPECT_EQ(run(bin + "merge " + dir + "/a.h5 " + dir + "/c.h5 --out " + dir + "/m.h5 2> " + dir +
                "/err.txt"),
            1);
  const std::string err = read_file(dir + "/err.txt");
  EXPECT_NE(err.find(dir + "/a.h5: shard 1/3 is missing (gap)"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_FALSE(std::filesystem::exists(dir + "/m.h5"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/m.h5.partial"));
  EXPECT_EQ(run(bin + "merge --out " + dir + "/m.h5 2> /dev/null"), 2);  // no shard: usage
}
