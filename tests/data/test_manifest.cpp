// Manifest CSV reader, CSV quoting, stage-range names, image folders.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>

#include "detail/csv.h"
#include "ishannot/common/error.h"
#include "ishannot/data/dataset.h"
#include "support/test_paths.h"
#include "support/test_util.h"

using namespace ishannot;

namespace {

void write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

void touch_png(const std::string& path) {
  cv::imwrite(path, cv::Mat(4, 6, CV_8UC3, cv::Scalar(200, 200, 200)));
}

}  // namespace

TEST(StageRange, NormalisesNamesAndNumbers) {
  EXPECT_EQ(normalise_stage_range("13-17"), "13-16");
  EXPECT_EQ(normalise_stage_range("13-16"), "13-16");
  // Bare numbers are embryonic stages (tests/data/test_stage_inputs.cpp has the whole table);
  // BDGP's range numbers are written range:N.
  EXPECT_EQ(normalise_stage_range("1"), "1-3");
  EXPECT_EQ(normalise_stage_range("6"), "4-6");
  EXPECT_EQ(normalise_stage_range("4"), "4-6");
  EXPECT_EQ(normalise_stage_range("range:4"), "9-10");
  EXPECT_EQ(normalise_stage_range(" stage 4-6 "), "4-6");
  EXPECT_EQ(normalise_stage_range("Stages 11 - 12"), "11-12");
  EXPECT_EQ(normalise_stage_range("7"), "7-8");
  EXPECT_THROW(normalise_stage_range("5-7"), Error);
  EXPECT_THROW(normalise_stage_range(""), Error);
}

TEST(Csv, QuotesCommasNewlinesCrlfBomAndUtf8) {
  const std::string text =
      "\xEF\xBB\xBF"
      "a,b,c\r\n"
      "\"x, y\",\"he said \"\"hi\"\"\",\"two\nlines\"\r\n"
      "\r\n"
      "Dl\xC3\xA9,,end\n"
      "last,row,nonl";
  const auto rows = detail::parse_csv(text, "t.csv");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].fields, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(rows[1].fields, (std::vector<std::string>{"x, y", "he said \"hi\"", "two\nlines"}));
  EXPECT_EQ(rows[1].line, 2);
  EXPECT_EQ(rows[2].fields, (std::vector<std::string>{"Dl\xC3\xA9", "", "end"}));
  EXPECT_EQ(rows[2].line, 5);  // the quoted newline and the blank line count
  EXPECT_EQ(rows[3].fields, (std::vector<std::string>{"last", "row", "nonl"}));
  EXPECT_NE(test::error_text([] { detail::parse_csv("a,\"open\n", "u.csv"); }).find("u.csv:1"),
            std::string::npos);
  EXPECT_EQ(detail::csv_quote("a,b"), "\"a,b\"");
  EXPECT_EQ(detail::csv_quote("q\""), "\"q\"\"\"");
  EXPECT_EQ(detail::csv_quote("plain"), "plain");
}

TEST(Manifest, ReadsTermsViewsAndRelativePaths) {
  const auto dir = test::temp_dir("manifest");
  std::filesystem::create_directories(dir + "/img");
  touch_png(dir + "/img/a1.png");
  touch_png(dir + "/img/b 2.png");
  touch_png(dir + "/img/c\xC3\xA9.png");
  write(dir + "/m.csv",
        "image,gene,stage_range,terms,view,extra\n"
        "img/a1.png,Dl,13-17,\" brain ; ventral nerve cord;brain\",Lateral,x\n"
        "\"img/b 2.png\",Dl,4-6,,,y\n"
        "img/c\xC3\xA9.png,\"Gene, with comma\",range:2,\"a;b\",dorsal,z\n");
  const Dataset ds = read_manifest(dir + "/m.csv");
  ASSERT_EQ(ds.images.size(), 3u);
  EXPECT_EQ(ds.images[0].id, "a1");
  EXPECT_EQ(ds.images[0].stage_range, "13-16");
  EXPECT_EQ(ds.images[0].terms, (std::vector<std::string>{"brain", "ventral nerve cord"}));
  EXPECT_EQ(ds.images[0].view, "lateral");
  EXPECT_EQ(ds.images[0].path, dir + "/img/a1.png");
  EXPECT_TRUE(ds.images[1].terms.empty());  // no CV term: a valid negative
  EXPECT_EQ(ds.images[1].id, "b 2");
  EXPECT_EQ(ds.images[2].gene, "Gene, with comma");
  EXPECT_EQ(ds.images[2].id, "c\xC3\xA9");
  EXPECT_EQ(ds.images[2].stage_range, "4-6");
  EXPECT_EQ(ds.stage_ranges(), (std::vector<std::string>{"4-6", "13-16"}));
  EXPECT_EQ(ds.indices_of_stage("13-17"), (std::vector<int>{0}));
  EXPECT_EQ(ds.indices_of_stage("4-6"), (std::vector<int>{1, 2}));
}

TEST(Manifest, BadInputGivesOneLineErrorsWithFileAndLine) {
  const auto dir = test::temp_dir("manifest-bad");
  touch_png(dir + "/a.png");
  touch_png(dir + "/b.png");
  auto err = [&](const std::string& text) {
    write(dir + "/m.csv", text);
    return test::error_text([&] { read_manifest(dir + "/m.csv"); });
  };
  const std::string h = "image,gene,stage_range,terms\n";
  EXPECT_NE(err(h + "a.png,g,4-6,\nsub/a.png,g,4-6,\n").find("m.csv:3: duplicate image id 'a'"),
            std::string::npos);
  EXPECT_NE(err(h + "a.png,g,4-6,\nmissing.png,g,4-6,\n").find("1 listed image(s) do not exist"),
            std::string::npos);
  EXPECT_NE(err(h + "a.png,g,stage 99,\n")
                .find("m.csv:2: stage 'stage 99': '99' is not an "
                      "embryonic stage 1..17"),
            std::string::npos);
  EXPECT_NE(err(h + "a.png,g,4-6\n").find("m.csv:2: 3 fields"), std::string::npos);
  EXPECT_NE(err("image,gene,terms\na.png,g,\n").find("lacks the column 'stage_range'"),
            std::string::npos);
  EXPECT_NE(err(h + "a.png,,4-6,\n").find("empty gene"), std::string::npos);
  EXPECT_NE(err("image,gene,stage_range,terms,view\na.png,g,4-6,,sideways\n").find("unknown view"),
            std::string::npos);
  EXPECT_NE(err(h).find("no image rows"), std::string::npos);
  // check_files = false: missing files are fine (metadata only).
  write(dir + "/m.csv", h + "nothere.png,g,4-6,x\n");
  EXPECT_EQ(read_manifest(dir + "/m.csv", false).images.size(), 1u);
  // A gene in two stage ranges with different terms is legal.
  write(dir + "/m.csv", h + "a.png,g,4-6,x\nb.png,g,7-8,y\n");
  EXPECT_EQ(read_manifest(dir + "/m.csv").images.size(), 2u);
}

TEST(Manifest, WriteReadRoundTrip) {
  const auto dir = test::temp_dir("manifest-rt");
  std::filesystem::create_directories(dir + "/images");
  Dataset ds;
  for (int i = 0; i < 3; ++i) {
    ImageRecord r;
    r.id = "im" + std::to_string(i);
    r.path = dir + "/images/" + r.id + ".png";
    touch_png(r.path);
    r.gene = i == 2 ? "g,\"quoted\"" : "g";
    r.stage_range = "9-10";
    r.view = i == 1 ? "" : "lateral";
    if (i > 0) r.terms = {"a b", "c;d"[0] == 'c' ? "cd" : "x"};
    ds.images.push_back(r);
  }
  write_manifest(ds, dir + "/images.csv");
  const Dataset back = read_dataset(dir);  // a folder with images.csv
  ASSERT_EQ(back.images.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(back.images[i].id, ds.images[i].id);
    EXPECT_EQ(back.images[i].path, ds.images[i].path);
    EXPECT_EQ(back.images[i].gene, ds.images[i].gene);
    EXPECT_EQ(back.images[i].view, ds.images[i].view);
    EXPECT_EQ(back.images[i].terms, ds.images[i].terms);
  }
}

TEST(ImageFolder, SortedImagesSkipsOthersAndRejectsDuplicateIds) {
  const auto dir = test::temp_dir("folder");
  touch_png(dir + "/b.png");
  touch_png(dir + "/a.PNG");
  write(dir + "/notes.txt", "x");
  std::filesystem::create_directories(dir + "/sub");
  const Dataset ds = read_image_folder(dir);
  ASSERT_EQ(ds.images.size(), 2u);
  EXPECT_EQ(ds.images[0].id, "a");
  EXPECT_EQ(ds.images[1].id, "b");
  int skipped = 0;
  for (const auto& s : ds.skipped) skipped += s.count;
  EXPECT_EQ(skipped, 2);
  EXPECT_EQ(read_dataset(dir).images.size(), 2u);
  touch_png(dir + "/a.bmp");
  EXPECT_NE(test::error_text([&] { read_image_folder(dir); }).find("share the id 'a'"),
            std::string::npos);
  const auto empty = test::temp_dir("folder-empty");
  EXPECT_NE(test::error_text([&] { read_image_folder(empty); }).find("no image files"),
            std::string::npos);
}

TEST(ImageFolder, UnreadableImagesAreReportedAndCounted) {
  const auto dir = test::temp_dir("folder-bad");
  touch_png(dir + "/good.png");
  write(dir + "/bad.png", "not a png");
  int lines = 0;
  Reporter reporter;
  reporter.log = [&](const std::string&) { ++lines; };
  const Dataset ds = drop_unreadable_images(read_image_folder(dir), reporter);
  ASSERT_EQ(ds.images.size(), 1u);
  EXPECT_EQ(ds.images[0].id, "good");
  EXPECT_EQ(lines, 1);
  ASSERT_EQ(ds.skipped.size(), 1u);
  EXPECT_EQ(ds.skipped[0].count, 1);
}

TEST(Manifest, ReadsBdgpMini) {
  ISHANNOT_SKIP_WITHOUT_SHARED();
  const Dataset ds = read_dataset(test::shared_data_dir() + "/bdgp-mini/images.csv");
  // Counts from ../shared/data/bdgp-mini/README.md (193 images; per stage range).
  ASSERT_EQ(ds.images.size(), 193u);
  EXPECT_EQ(ds.indices_of_stage("1-3").size(), 14u);
  EXPECT_EQ(ds.indices_of_stage("4-6").size(), 41u);
  EXPECT_EQ(ds.indices_of_stage("7-8").size(), 27u);
  EXPECT_EQ(ds.indices_of_stage("9-10").size(), 17u);
  EXPECT_EQ(ds.indices_of_stage("11-12").size(), 45u);
  EXPECT_EQ(ds.indices_of_stage("13-16").size(), 49u);
  int no_terms = 0;
  for (const auto& im : ds.images) no_terms += im.terms.empty() ? 1 : 0;
  EXPECT_EQ(no_terms, 14);  // README: 14 images have no terms
}
