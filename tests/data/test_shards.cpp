// Shards of a dataset: parsing "i/N", the slices against a naive reference (each row assigned to
// the shard whose floor(i*n/N) bounds contain it), hand values, and the ids hash against sha256sum.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "ishannot/common/error.h"
#include "ishannot/data/shards.h"
#include "support/test_paths.h"
#include "support/test_util.h"

using namespace ishannot;

namespace {

Dataset dataset_of(int n) {
  Dataset d;
  d.source = "memory.csv";
  for (int i = 0; i < n; ++i) {
    ImageRecord r;
    r.id = "img" + std::to_string(i);
    r.gene = "g" + std::to_string(i % 3);
    r.stage_range = "4-6";
    d.images.push_back(r);
  }
  d.add_skip("a skip note", 2);
  return d;
}

}  // namespace

TEST(Shards, ParsesIndexSlashCount) {
  EXPECT_EQ(parse_shard_spec("0/1").index, 0);
  EXPECT_EQ(parse_shard_spec("0/1").count, 1);
  EXPECT_EQ(parse_shard_spec("3/4").index, 3);
  EXPECT_EQ(parse_shard_spec("3/4").count, 4);
  EXPECT_EQ(shard_text(parse_shard_spec("12/40")), "12/40");
  for (const char* bad : {"", "3", "/4", "1/", "4/4", "-1/4", "1/0", "a/4", "1/4x", "1 /4", "+1/4",
                          "1/+4", "1//4", "1.5/4", " 1/4", "1/ 4", "1/4 ", "99999999999/1"}) {
    const std::string e = test::error_text([&] { parse_shard_spec(bad); });
    EXPECT_NE(e.find(std::string("--shard '") + bad + "'"), std::string::npos) << bad << ": " << e;
    EXPECT_NE(e.find("0 <= i < N"), std::string::npos) << e;
  }
}

TEST(Shards, HandValues) {
  // 10 images in 3 shards: floor(10/3) = 3, floor(20/3) = 6.
  EXPECT_EQ(shard_rows(10, {0, 3}).begin, 0);
  EXPECT_EQ(shard_rows(10, {0, 3}).end, 3);
  EXPECT_EQ(shard_rows(10, {1, 3}).begin, 3);
  EXPECT_EQ(shard_rows(10, {1, 3}).end, 6);
  EXPECT_EQ(shard_rows(10, {2, 3}).begin, 6);
  EXPECT_EQ(shard_rows(10, {2, 3}).end, 10);
  EXPECT_EQ(shard_rows(7, {0, 1}).size(), 7);
}

TEST(Shards, CoverEveryRowOnceInOrderAgainstANaiveAssignment) {
  for (int64_t n = 0; n <= 60; ++n) {
    for (int count = 1; count <= 13; ++count) {
      // Naive: row r belongs to the largest i with floor(i*n/N) <= r.
      std::vector<int> owner(static_cast<size_t>(n), -1);
      for (int64_t r = 0; r < n; ++r)
        for (int i = 0; i < count; ++i)
          if (i * n / count <= r) owner[static_cast<size_t>(r)] = i;
      int64_t next = 0;
      for (int i = 0; i < count; ++i) {
        const ShardRows rows = shard_rows(n, {i, count});
        EXPECT_EQ(rows.begin, next) << n << " " << i << "/" << count;  // no gap, no overlap
        for (int64_t r = rows.begin; r < rows.end; ++r)
          EXPECT_EQ(owner[static_cast<size_t>(r)], i) << n << " row " << r;
        // Balanced: sizes differ by at most one.
        EXPECT_LE(rows.size(), n / count + 1);
        EXPECT_GE(rows.size(), n / count);
        next = rows.end;
      }
      EXPECT_EQ(next, n);
    }
  }
}

TEST(Shards, ShardOfSlicesTheImagesAndKeepsTheRest) {
  const Dataset d = dataset_of(10);
  const Dataset s = shard_of(d, {1, 3});
  ASSERT_EQ(s.images.size(), 3u);
  EXPECT_EQ(s.images[0].id, "img3");
  EXPECT_EQ(s.images[2].id, "img5");
  EXPECT_EQ(s.source, d.source);
  ASSERT_EQ(s.skipped.size(), 1u);
  EXPECT_EQ(s.skipped[0].count, 2);
  const std::string e = test::error_text([&] { shard_of(dataset_of(2), {0, 3}); });
  EXPECT_NE(e.find("memory.csv"), std::string::npos) << e;
  EXPECT_NE(e.find("shard 0/3 of 2 images is empty"), std::string::npos) << e;
}

TEST(Shards, AttributesNameTheSliceAndHashTheIdsLikeSha256sum) {
  // printf 'img0\nimg1\nimg2\n' | sha256sum
  EXPECT_EQ(ids_sha256({"img0", "img1", "img2"}),
            "cc2a7ab95bcaa8ab8db489f77267ecfe0f0fb093f1a505334d46865e3e38bc2f");
  const Dataset d = dataset_of(25);
  const auto a = shard_attributes(d, {2, 4});
  EXPECT_EQ(a.at("shard"), "2/4");
  EXPECT_EQ(a.at("shard_total_images"), "25");
  // The same hash from the sha256sum tool over the id list written here.
  const std::string dir = test::temp_dir("shards-sha");
  {
    std::ofstream out(dir + "/ids.txt");
    for (const auto& image : d.images) out << image.id << "\n";
  }
  const std::string cmd = "sha256sum " + dir + "/ids.txt | cut -c1-64 > " + dir + "/sum.txt";
  if (std::system(cmd.c_str()) != 0) GTEST_SKIP() << "sha256sum not available";
  std::ifstream in(dir + "/sum.txt");
  std::string expected;
  in >> expected;
  EXPECT_EQ(a.at("shard_ids_sha256"), expected);
}
