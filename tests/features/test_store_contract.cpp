// The store contract (docs/FEATURE_STORE.md): the minimal store a user writes with h5py — /ids in
// either string form h5py writes (variable-length str, or np.array(ids, dtype='S'): fixed-length,
// NULL-padded), /features/<layer> float32, root attribute format_version = 1 — is read exactly and
// evaluated through the CLI. The writer is tests/support/write_h5py_store.py (python3-h5py), which
// shares no code with ishannot; the expected ids are the manifest's file stems.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "ishannot/common/fs_util.h"
#include "ishannot/data/dataset.h"
#include "ishannot/features/feature_store.h"
#include "support/cli_util.h"
#include "support/test_util.h"

using namespace ishannot;

TEST(StoreContract, H5pyStoresWithVariableAndFixedLengthIdsReadBackExactly) {
  ISHANNOT_SKIP_WITHOUT_H5PY();
  const std::string dir = test::temp_dir("store-contract-read");
  const std::string manifest = test::write_small_manifest(dir);
  const Dataset ds = read_manifest(manifest, false);
  ASSERT_EQ(test::write_h5py_store(dir + "/vlen.h5", "vlen", manifest), 0);
  ASSERT_EQ(test::write_h5py_store(dir + "/fixed.h5", "fixed", manifest), 0);
  std::vector<std::string> expected;
  for (const auto& image : ds.images) expected.push_back(image.id);
  std::vector<std::vector<float>> values;
  for (const char* name : {"vlen.h5", "fixed.h5"}) {
    FeatureStoreReader store(dir + "/" + name);
    EXPECT_EQ(store.ids(), expected) << name;  // "g10_0" and "g1_0": two lengths, NULL-padded
    ASSERT_EQ(store.layers().size(), 1u);
    EXPECT_EQ(store.dim("feat"), 12);
    EXPECT_EQ(store.dtype("feat"), FeatureDtype::kFloat32);
    std::vector<float> v(static_cast<size_t>(store.rows() * 12));
    store.read_rows("feat", 0, store.rows(), v.data());
    values.push_back(v);
  }
  EXPECT_EQ(values[0], values[1]);  // same writer seed: same numbers
}

TEST(StoreContract, EvaluateGivesTheSameResultsOnBothStringForms) {
  ISHANNOT_SKIP_WITHOUT_H5PY();
  const std::string dir = test::temp_dir("store-contract-eval");
  const std::string manifest = test::write_small_manifest(dir);
  const std::string protocol = " --folds 3 --inner-folds 2 --c-grid 1 --models 3 --top-k 4";
  for (const char* form : {"vlen", "fixed"}) {
    const std::string store = dir + "/" + form + ".h5";
    ASSERT_EQ(test::write_h5py_store(store, form, manifest), 0);
    const std::string err = dir + "/" + form + ".err";
    ASSERT_EQ(
        test::run_status(test::cli() + "evaluate --data " + manifest + " --features " + store +
                         protocol + " --out " + dir + "/" + form + " > /dev/null 2> " + err),
        0)
        << form << ": " << read_text_file(err);
  }
  const std::string a = read_text_file(dir + "/vlen/metrics.tsv");
  EXPECT_GT(test::read_tsv(dir + "/vlen/metrics.tsv").size(), 20u);
  EXPECT_EQ(a, read_text_file(dir + "/fixed/metrics.tsv"));
}

// Issue 16.1: when no id matches, say which ids were expected and which were found.
TEST(StoreContract, NoMatchingIdNamesTheExpectedAndTheFoundIds) {
  ISHANNOT_SKIP_WITHOUT_H5PY();
  const std::string dir = test::temp_dir("store-contract-nomatch");
  const std::string manifest = test::write_small_manifest(dir);
  ASSERT_EQ(test::write_h5py_store(dir + "/x.h5", "fixed", manifest, "--prefix img_"), 0);
  EXPECT_EQ(test::run_status(test::cli() + "evaluate --data " + manifest + " --features " + dir +
                             "/x.h5 --folds 3 --out " + dir + "/out 2> " + dir + "/err.txt"),
            1);
  const std::string err = read_text_file(dir + "/err.txt");
  EXPECT_NE(err.find("x.h5"), std::string::npos) << err;
  EXPECT_NE(err.find("g0_0"), std::string::npos) << err;      // expected (the dataset's)
  EXPECT_NE(err.find("img_g0_0"), std::string::npos) << err;  // found (the store's)
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
}

// The one required attribute: a store without format_version says how to add it.
TEST(StoreContract, AStoreWithoutFormatVersionSaysWhatToAdd) {
  ISHANNOT_SKIP_WITHOUT_H5PY();
  const std::string dir = test::temp_dir("store-contract-version");
  const std::string manifest = test::write_small_manifest(dir);
  ASSERT_EQ(test::write_h5py_store(dir + "/s.h5", "vlen", manifest), 0);
  ASSERT_EQ(test::run_status("/usr/bin/python3 -c \"import h5py; "
                             "f = h5py.File('" +
                             dir + "/s.h5', 'a'); del f.attrs['format_version']\""),
            0);
  const std::string message = test::error_text([&] { FeatureStoreReader r(dir + "/s.h5"); });
  EXPECT_NE(message.find("s.h5"), std::string::npos) << message;
  EXPECT_NE(message.find("format_version = 1"), std::string::npos) << message;
}
