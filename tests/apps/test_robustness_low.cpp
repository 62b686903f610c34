// Issue 22, the Low items (CLI and library): a store listing an id twice is refused naming both
// rows (h5py edits it); `--models 100001` is refused at once (was std::bad_alloc after 75 s);
// `--batch 0` gets a short message (was a 309-digit range); train names the expected and found
// ids when none match, and an unknown --terms term; merge takes shards of one manifest spelled
// differently (same SHA-256). References: the files written and edited here.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/data/shards.h"
#include "ishannot/features/feature_store.h"
#include "ishannot/features/merge.h"
#include "support/cli_util.h"
#include "support/store_util.h"
#include "support/test_paths.h"
#include "support/test_util.h"

using namespace ishannot;
namespace fs = std::filesystem;

namespace {

struct CliRun {
  int code;
  std::string err;
};

CliRun run(const std::string& args, const std::string& dir) {
  const int code = test::run_status(test::cli() + args + " > /dev/null 2> " + dir + "/err.txt");
  return {code, read_text_file(dir + "/err.txt")};
}

}  // namespace

TEST(RobustnessLow, AStoreListingAnIdTwiceIsRefusedNamingBothRows) {
  ISHANNOT_SKIP_WITHOUT_H5PY();
  const std::string dir = test::temp_dir("low-dup-ids");
  test::write_store_for(dir + "/f.h5", read_manifest(test::write_small_manifest(dir), false));
  ASSERT_EQ(test::run_status("/usr/bin/python3 -c \"import h5py; f = h5py.File('" + dir +
                             "/f.h5', 'r+'); f['ids'][4] = f['ids'][1]\""),
            0);
  const std::string message = test::error_text([&] { FeatureStoreReader r(dir + "/f.h5"); });
  EXPECT_EQ(message, dir +
                         "/f.h5: /ids lists 'g0_1' twice (rows 1 and 4): an id must name one "
                         "image");
}

TEST(RobustnessLow, OptionsOutOfRangeAreRefusedAtOnceInOneShortLine) {
  const std::string dir = test::temp_dir("low-options");
  const std::string manifest = test::write_small_manifest(dir);
  test::write_store_for(dir + "/f.h5", read_manifest(manifest, false));
  const std::string train =
      "train --data " + manifest + " --features " + dir + "/f.h5 --out " + dir + "/m.h5 --folds 0 ";
  const auto start = std::chrono::steady_clock::now();
  CliRun r = run(train + "--models 100001", dir);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("at most 1001"), std::string::npos) << r.err;
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 20);
  r = run("annotate --model " + dir + "/m.h5 --data " + manifest + " --out " + dir + "/a --batch 0",
          dir);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find(">= 1"), std::string::npos) << r.err;
  EXPECT_LT(r.err.size(), 200u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(RobustnessLow, TrainNamesTheIdsItExpectedAndFoundAndAnUnknownTerm) {
  const std::string dir = test::temp_dir("low-train-names");
  const std::string manifest = test::write_small_manifest(dir);
  Dataset prefixed = read_manifest(manifest, false);
  for (auto& image : prefixed.images) image.id = "features/" + image.id;
  test::write_store_for(dir + "/prefixed.h5", prefixed);
  test::write_store_for(dir + "/f.h5", read_manifest(manifest, false));
  CliRun r = run("train --data " + manifest + " --features " + dir + "/prefixed.h5 --out " + dir +
                     "/m.h5 --folds 0",
                 dir);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("the dataset's ids are g0_0, g0_1, g0_2, ...; the store's are "
                       "features/g0_0, features/g0_1, features/g0_2, ..."),
            std::string::npos)
      << r.err;
  r = run("train --data " + manifest + " --features " + dir + "/f.h5 --out " + dir +
              "/m.h5 --folds 0 --terms term_a,term_zz",
          dir);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("--terms: 'term_zz' is not a term of this dataset (its terms: term_a, "
                       "term_b, term_c, term_d)"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(dir + "/m.h5.partial"));
}

TEST(RobustnessLow, MergeTakesShardsOfOneManifestSpelledDifferently) {
  const std::string dir = test::temp_dir("low-merge-spelling");
  const Dataset ds = read_manifest(test::write_small_manifest(dir), false);
  std::vector<std::string> shards;
  for (int i = 0; i < 2; ++i) {
    std::map<std::string, std::string> attributes = {
        {"backbone", "synthetic"},
        {"manifest_sha256", "0123abcd"},
        {"manifest_path", i == 0 ? "./syn/images.csv" : "syn/images.csv"}};
    for (const auto& [key, value] : shard_attributes(ds, {i, 2})) attributes[key] = value;
    const ShardRows rows = shard_rows(static_cast<int64_t>(ds.images.size()), {i, 2});
    std::vector<std::string> ids;
    std::vector<float> values;
    for (int64_t r = rows.begin; r < rows.end; ++r) {
      ids.push_back(ds.images[static_cast<size_t>(r)].id);
      for (int c = 0; c < 3; ++c) values.push_back(static_cast<float>(r * 3 + c));
    }
    shards.push_back(dir + "/s" + std::to_string(i) + ".h5");
    FeatureStoreWriter w(shards.back(), {{"x", 3, "3x1x1"}}, FeatureDtype::kFloat32, attributes);
    w.append(ids, {{"x", values.data()}});
    w.close();
  }
  EXPECT_EQ(test::error_text([&] { merge_feature_stores(shards, dir + "/merged.h5"); }), "");
  EXPECT_EQ(FeatureStoreReader(dir + "/merged.h5").rows(), static_cast<int64_t>(ds.images.size()));
}

TEST(RobustnessLow, ASymlinkLoopInAnImageFolderIsNamedAndSkipped) {
  const std::string dir = test::temp_dir("low-folder-loop");
  fs::create_directories(dir + "/images");
  std::ofstream(dir + "/images/a.png") << "not decoded here";
  fs::create_symlink("loop.png", dir + "/images/loop.png");
  Dataset ds;
  EXPECT_EQ(test::error_text([&] { ds = read_dataset(dir + "/images"); }), "");
  ASSERT_EQ(ds.images.size(), 1u);
  ASSERT_EQ(ds.skipped.size(), 1u);
  EXPECT_NE(ds.skipped[0].reason.find("symbolic link loop"), std::string::npos)
      << ds.skipped[0].reason;
}

TEST(RobustnessLow, ABundleOfRecipeLessFeaturesAsksForFeatures) {
  const std::string dir = test::temp_dir("low-recipe-less");
  const std::string manifest = test::write_small_manifest(dir);
  const Dataset ds = read_manifest(manifest, false);
  {
    FeatureStoreWriter w(dir + "/f.h5", {{"x", 4, "4x1x1"}}, FeatureDtype::kFloat32, {});
    std::vector<std::string> ids;
    std::vector<float> values;
    for (size_t i = 0; i < ds.images.size(); ++i) {
      ids.push_back(ds.images[i].id);
      const bool a = ds.images[i].terms.size() > 1;
      for (int c = 0; c < 4; ++c) values.push_back(static_cast<float>((i * 7 + c) % 5 + a * c));
    }
    w.append(ids, {{"x", values.data()}});
    w.close();
  }
  ASSERT_EQ(
      test::run_status(test::cli() + "train --data " + manifest + " --features " + dir +
                       "/f.h5 --out " + dir + "/m.h5 --folds 0 --c-grid 1 --models 3 --view all"),
      0);
  const CliRun r =
      run("annotate --model " + dir + "/m.h5 --data " + manifest + " --out " + dir + "/a", dir);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("give --features"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("--weights"), std::string::npos) << r.err;
}
