// Self-describing stores (issue 16.2), read back with h5py (tests/support/h5py_describe.py): the
// SC baseline's store carries the documented root attribute set (docs/FEATURE_STORE.md — the
// list below is the doc's table, the reference), the manifest's SHA-256 (sha256sum) and path, the
// command line, per layer its stored grid, source and pooling, and /meta/gene and
// /meta/stage_range in /ids order (the manifest read here is the reference).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "ishannot/common/fs_util.h"
#include "support/cli_util.h"

using namespace ishannot;
namespace fs = std::filesystem;

namespace test_store_attributes {

// docs/FEATURE_STORE.md, "What our stores also hold": every store we write has these.
const char* const kDocumented[] = {
    "format_version",  "tool_version",  "created_by",    "manifest_path",
    "manifest_sha256", "backbone",      "weights_path",  "weights_sha256",
    "input_size",      "resize_policy", "preprocessing", "pooling",
    "layers",          "precision",     "seed",          "complete_rows"};

nlohmann::json describe(const std::string& store, const std::string& dir) {
  const std::string out = dir + "/describe.json";
  EXPECT_EQ(test::run_status("/usr/bin/python3 " + test::source_dir() +
                             "/tests/support/h5py_describe.py " + store + " > " + out),
            0);
  return nlohmann::json::parse(read_text_file(out));
}

}  // namespace test_store_attributes

using namespace test_store_attributes;

TEST(StoreAttributes, BaselineStoresDescribeThemselves) {
  ISHANNOT_SKIP_WITHOUT_H5PY();
  const std::string dir = test::temp_dir("store-attributes-sc");
  fs::create_directories(dir + "/images");
  std::string csv = "image,gene,stage_range,terms\n";
  cv::RNG rng(3);
  for (int i = 0; i < 6; ++i) {
    cv::Mat img(64, 96, CV_8UC3);
    rng.fill(img, cv::RNG::UNIFORM, 0, 255);
    ASSERT_TRUE(cv::imwrite(dir + "/images/s" + std::to_string(i) + ".png", img));
    csv += "s" + std::to_string(i) + ".png,gene" + std::to_string(i % 3) + "," +
           (i < 3 ? "13-16" : "4-6") + ",t\n";
  }
  std::ofstream(dir + "/images.csv") << csv;
  ASSERT_EQ(test::run_status(test::cli() + "baseline --data " + dir +
                             "/images.csv --atoms 8 --pyramid 1,2 "
                             "--pooling max --dictionary-images 6 --descriptors-per-image 20 "
                             "--out " +
                             dir + "/sc.h5 2> " + dir + "/err.txt"),
            0)
      << read_text_file(dir + "/err.txt");
  const auto d = describe(dir + "/sc.h5", dir);
  for (const char* name : kDocumented) EXPECT_TRUE(d["attrs"].contains(name)) << name;
  ASSERT_EQ(test::run_status("sha256sum " + dir + "/images.csv > " + dir + "/sha.txt"), 0);
  EXPECT_EQ(d["attrs"]["manifest_sha256"], read_text_file(dir + "/sha.txt").substr(0, 64));
  EXPECT_EQ(d["attrs"]["manifest_path"], dir + "/images.csv");
  EXPECT_EQ(d["attrs"]["backbone"], "sparse-coding");
  EXPECT_EQ(d["attrs"]["complete_rows"], 6);
  EXPECT_NE(d["attrs"]["created_by"].get<std::string>().find("baseline --data"), std::string::npos);
  ASSERT_TRUE(d["layers"].contains("sc_max"));
  const auto& layer = d["layers"]["sc_max"];
  EXPECT_EQ(layer["attrs"]["shape"], "5x8");  // 1 + 2x2 cells x 8 atoms
  EXPECT_EQ(layer["shape"][1], 40);
  EXPECT_EQ(layer["attrs"]["pooling"], "max:1x1,2x2");
  EXPECT_TRUE(layer["attrs"].contains("source_shape"));
  // /meta in /ids order, from the manifest.
  ASSERT_EQ(d["ids"].size(), 6u);
  for (size_t i = 0; i < 6; ++i) {
    const std::string id = d["ids"][i];
    const int k = id[1] - '0';
    EXPECT_EQ(d["meta"]["gene"][i], "gene" + std::to_string(k % 3)) << id;
    EXPECT_EQ(d["meta"]["stage_range"][i], k < 3 ? "13-16" : "4-6") << id;
  }
}
