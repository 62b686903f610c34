#include <gtest/gtest.h>
#include <hdf5.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "ishannot/common/error.h"
#include "ishannot/features/feature_store.h"
#include "support/test_paths.h"
#include "support/test_util.h"

using namespace ishannot;

namespace {

// Values exactly representable in float16, so both dtypes must round-trip bit-exactly.
float value_of(int row, int layer, int col) {
  return static_cast<float>((row * 7 + col * 3 + layer) % 41 - 20) / 8.0f;
}

std::vector<float> block(int row0, int rows, int layer, int dim) {
  std::vector<float> out(static_cast<size_t>(rows) * dim);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < dim; ++c)
      out[static_cast<size_t>(r) * dim + c] = value_of(row0 + r, layer, c);
  return out;
}

std::vector<LayerSpec> two_layers() {
  return {{"a", 5, "5x1x1"}, {"bb", 3, "3x1x1"}};
}

void write_rows(FeatureStoreWriter& w, int row0, int n) {
  std::vector<std::string> ids;
  for (int r = row0; r < row0 + n; ++r) ids.push_back("img" + std::to_string(r));
  auto a = block(row0, n, 0, 5), b = block(row0, n, 1, 3);
  w.append(ids, {{"a", a.data()}, {"bb", b.data()}});
}

}  // namespace

class FeatureStoreRoundTrip : public ::testing::TestWithParam<FeatureDtype> {};

TEST_P(FeatureStoreRoundTrip, RowsBlocksAndAttributes) {
  const auto dir = test::temp_dir("fs-roundtrip");
  const std::string path = dir + "/f.h5";
  // A fine-tuned net's gene list can exceed HDF5's 64 KB compact-attribute limit.
  std::string genes;
  for (int g = 0; g < 12000; ++g) genes += "FBgn" + std::to_string(1000000 + g) + "\n";
  {
    FeatureStoreWriter w(path, two_layers(), GetParam(),
                         {{"backbone", "resnet50"}, {"seed", "7"}, {"finetune_genes", genes}});
    write_rows(w, 0, 4);
    write_rows(w, 4, 3);
    w.close();
  }
  EXPECT_FALSE(std::filesystem::exists(path + ".partial"));
  FeatureStoreReader r(path);
  ASSERT_EQ(r.rows(), 7);
  EXPECT_EQ(r.ids()[5], "img5");
  ASSERT_EQ(r.layers().size(), 2u);
  EXPECT_EQ(r.dim("a"), 5);
  EXPECT_EQ(r.layers()[0].shape, "5x1x1");
  EXPECT_EQ(r.dtype("bb"), GetParam());
  EXPECT_EQ(r.attributes().at("backbone"), "resnet50");
  EXPECT_EQ(r.attributes().at("format_version"), "1");
  EXPECT_EQ(r.attributes().at("finetune_genes"), genes);
  std::vector<float> all(7 * 5);
  r.read_rows("a", 0, 7, all.data());
  EXPECT_EQ(all, block(0, 7, 0, 5));
  std::vector<float> picked(3 * 3);
  r.read_rows("bb", std::vector<int64_t>{6, 1, 2}, picked.data());
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(picked[c], value_of(6, 1, c));
    EXPECT_EQ(picked[3 + c], value_of(1, 1, c));
    EXPECT_EQ(picked[6 + c], value_of(2, 1, c));
  }
  std::vector<float> slab(2 * 2);
  r.read_block("a", {3, 0}, 2, 2, slab.data());
  EXPECT_EQ(slab, (std::vector<float>{value_of(3, 0, 2), value_of(3, 0, 3), value_of(0, 0, 2),
                                      value_of(0, 0, 3)}));
  EXPECT_NE(test::error_text([&] { r.dim("nope"); }).find(path), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Dtypes, FeatureStoreRoundTrip,
                         ::testing::Values(FeatureDtype::kFloat32, FeatureDtype::kFloat16));

TEST(FeatureStore, Float16RoundsValuesToNearestHalf) {
  const auto dir = test::temp_dir("fs-half");
  const std::string path = dir + "/f.h5";
  std::vector<float> v = {1.0f + 1.0f / 4096, 0.1f, -3.14159f};
  {
    FeatureStoreWriter w(path, {{"x", 3, ""}}, FeatureDtype::kFloat16, {});
    w.append({"one"}, {{"x", v.data()}});
    w.close();
  }
  FeatureStoreReader r(path);
  std::vector<float> out(3);
  r.read_rows("x", 0, 1, out.data());
  // Hand-rounded: 1 + 2^-12 -> 1; 0.1 -> 0x2e66 = 0.0999755859375; pi-ish -> 0xc248 = -3.140625
  // (spacing 2^-9)
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], 0.0999755859375f);
  EXPECT_EQ(out[2], -3.140625f);
}

TEST(FeatureStore, RejectsNonFiniteAndOutOfRangeValues) {
  const auto dir = test::temp_dir("fs-nan");
  FeatureStoreWriter w(dir + "/f.h5", {{"x", 2, ""}}, FeatureDtype::kFloat16, {});
  std::vector<float> nan = {1.0f, std::nanf("")}, big = {70000.0f, 0.0f};
  const auto e1 = test::error_text([&] { w.append({"id1"}, {{"x", nan.data()}}); });
  EXPECT_NE(e1.find("NaN"), std::string::npos) << e1;
  EXPECT_NE(e1.find("id1"), std::string::npos) << e1;
  const auto e2 = test::error_text([&] { w.append({"id2"}, {{"x", big.data()}}); });
  EXPECT_NE(e2.find("float16 range"), std::string::npos) << e2;
  EXPECT_NE(test::error_text([&] { w.append({"id3"}, {}); }), "");
}

TEST(FeatureStore, ResumesAnInterruptedPartialFile) {
  const auto dir = test::temp_dir("fs-resume");
  const std::string path = dir + "/f.h5";
  const std::map<std::string, std::string> attrs = {{"backbone", "resnet50"}};
  try {
    FeatureStoreWriter w(path, two_layers(), FeatureDtype::kFloat16, attrs);
    write_rows(w, 0, 3);
    throw std::runtime_error("killed");  // the destructor runs while unwinding
  } catch (const std::runtime_error&) {
  }
  ASSERT_TRUE(std::filesystem::exists(path + ".partial"));
  ASSERT_FALSE(std::filesystem::exists(path));
  // Incompatible attributes are refused with a message naming the file.
  const auto e = test::error_text([&] {
    FeatureStoreWriter w(path, two_layers(), FeatureDtype::kFloat16, {{"backbone", "vgg16"}}, true);
  });
  EXPECT_NE(e.find(".partial"), std::string::npos) << e;
  EXPECT_NE(test::error_text([&] {
              FeatureStoreWriter w(path, two_layers(), FeatureDtype::kFloat32, attrs, true);
            }),
            "");
  {
    FeatureStoreWriter w(path, two_layers(), FeatureDtype::kFloat16, attrs, true);
    ASSERT_EQ(w.existing_ids(), (std::vector<std::string>{"img0", "img1", "img2"}));
    EXPECT_NE(test::error_text([&] { write_rows(w, 2, 1); }).find("twice"), std::string::npos);
    write_rows(w, 3, 2);
    w.close();
  }
  FeatureStoreReader r(path);
  ASSERT_EQ(r.rows(), 5);
  std::vector<float> all(5 * 3);
  r.read_rows("bb", 0, 5, all.data());
  EXPECT_EQ(all, block(0, 5, 1, 3));
}

TEST(FeatureStore, ReaderErrorsNameTheFile) {
  const auto dir = test::temp_dir("fs-errors");
  const std::string missing = dir + "/missing.h5";
  EXPECT_NE(test::error_text([&] { FeatureStoreReader r(missing); }).find(missing),
            std::string::npos);
  const std::string text = dir + "/text.h5";
  std::ofstream(text) << "not hdf5\n";
  EXPECT_NE(test::error_text([&] { FeatureStoreReader r(text); }).find("not an HDF5"),
            std::string::npos);
  // A store of another format version.
  const std::string path = dir + "/v2.h5";
  {
    FeatureStoreWriter w(path, {{"x", 1, ""}}, FeatureDtype::kFloat32, {});
    w.close();
  }
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  hid_t a = H5Aopen(f, "format_version", H5P_DEFAULT);
  const int64_t two = 2;
  H5Awrite(a, H5T_NATIVE_INT64, &two);
  H5Aclose(a);
  H5Fclose(f);
  const auto e = test::error_text([&] { FeatureStoreReader r(path); });
  EXPECT_NE(e.find(path), std::string::npos) << e;
  EXPECT_NE(e.find("format_version 2"), std::string::npos) << e;
}

TEST(FeatureStore, ReadableByH5dumpAndH5py) {
  const auto dir = test::temp_dir("fs-h5py");
  const std::string path = dir + "/f.h5";
  {
    FeatureStoreWriter w(path, two_layers(), FeatureDtype::kFloat16, {{"backbone", "resnet50"}});
    write_rows(w, 0, 3);
    w.close();
  }
  if (std::system("command -v h5dump > /dev/null 2>&1") == 0) {
    const std::string cmd = "h5dump -d /ids " + path + " | grep -q img2";
    EXPECT_EQ(std::system(cmd.c_str()), 0);
  }
  if (std::system("/usr/bin/python3 -c 'import h5py' > /dev/null 2>&1") != 0)
    GTEST_SKIP() << "python3-h5py not available";
  // h5py sees float16 (numpy 'float16'), the ids as str and the values we wrote.
  const std::string script =
      "import h5py, sys\n"
      "f = h5py.File(sys.argv[1], 'r')\n"
      "x = f['features/a']\n"
      "assert str(x.dtype) == 'float16', x.dtype\n"
      "assert x.shape == (3, 5), x.shape\n"
      "ids = [i.decode() if isinstance(i, bytes) else i for i in f['ids'][:]]\n"
      "assert ids == ['img0', 'img1', 'img2'], ids\n"
      "assert float(x[2, 4]) == ((2 * 7 + 4 * 3) % 41 - 20) / 8.0, x[2, 4]\n"
      "assert int(f.attrs['format_version']) == 1\n"
      "b = f.attrs['backbone']\n"
      "assert (b.decode() if isinstance(b, bytes) else b) == 'resnet50'\n";
  std::ofstream(dir + "/check.py") << script;
  const std::string cmd = "/usr/bin/python3 " + dir + "/check.py " + path;
  EXPECT_EQ(std::system(cmd.c_str()), 0);
}
