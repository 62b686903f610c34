// `ishannot standardize` end to end: the QC table's documented columns and one row per image,
// the standardized images at the asked size, the contact sheet, the manifest carried over from an
// annotated input, an unreadable image reported in its row, usage errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "detail/csv.h"
#include "ishannot/common/fs_util.h"
#include "support/cli_util.h"

namespace fs = std::filesystem;
using namespace ishannot;

namespace {

// `n` tilted pale ellipses on a white canvas, plus one file that is not an image.
std::string write_raw(const std::string& dir, int n) {
  fs::create_directories(dir + "/raw");
  std::string csv = "image,gene,stage_range,terms\n";
  for (int i = 0; i < n; ++i) {
    cv::Mat img(300, 420, CV_8UC3, cv::Scalar(235, 235, 235));
    cv::ellipse(img, {210, 150}, {150, 60}, 20 * i - 40, 0, 360, cv::Scalar(160, 170, 180),
                cv::FILLED, cv::LINE_AA);
    cv::circle(img, {150 + 10 * i, 150}, 20, cv::Scalar(90, 60, 70), cv::FILLED);
    const std::string name = "e" + std::to_string(i) + ".png";
    cv::imwrite(dir + "/raw/" + name, img);
    csv += name + ",g" + std::to_string(i % 2) + ",13-16,t\n";
  }
  std::ofstream(dir + "/raw/broken.png") << "not a png";
  csv += "broken.png,g0,13-16,t\n";
  std::ofstream(dir + "/raw/images.csv") << csv;
  return dir + "/raw";
}

std::vector<std::vector<std::string>> tsv(const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) rows.push_back(detail::split(line, '\t'));
  return rows;
}

}  // namespace

TEST(StandardizeCli, WritesImagesQcTableSheetAndManifest) {
  const std::string dir = test::temp_dir("standardize-cli");
  const std::string raw = write_raw(dir, 5);
  const std::string out = dir + "/std";
  ASSERT_EQ(test::run_status(test::cli() + "standardize --data " + raw + "/images.csv --out " +
                             out + " --size 200x80 2> " + dir + "/err.txt"),
            0)
      << read_text_file(dir + "/err.txt");
  const auto rows = tsv(out + "/standardize.tsv");
  ASSERT_EQ(rows.size(), 7u);
  const std::vector<std::string> header = {
      "image",          "source",        "output",     "found",         "angle_deg",
      "ap_flipped",     "ap_confidence", "dv_flipped", "dv_confidence", "area_fraction",
      "touches_border", "elongation",    "blur",       "crop_x",        "crop_y",
      "crop_width",     "crop_height",   "flagged",    "flags"};
  EXPECT_EQ(rows[0], header);
  for (size_t r = 1; r < rows.size(); ++r) {
    ASSERT_EQ(rows[r].size(), header.size()) << r;
    if (rows[r][0] == "broken") {
      EXPECT_EQ(rows[r][3], "0");
      EXPECT_EQ(rows[r][17], "1");
      EXPECT_NE(rows[r][18].find("unreadable"), std::string::npos) << rows[r][18];
      continue;
    }
    EXPECT_EQ(rows[r][3], "1") << rows[r][0];
    // Rendered at 20 i - 40 degrees clockwise: counter-clockwise -(20 i - 40).
    const int i = std::stoi(rows[r][0].substr(1));
    EXPECT_NEAR(std::stod(rows[r][4]), 40.0 - 20 * i, 1.5) << rows[r][0];
    const cv::Mat img = cv::imread(out + "/" + rows[r][2]);
    EXPECT_EQ(img.cols, 200);
    EXPECT_EQ(img.rows, 80);
  }
  EXPECT_TRUE(fs::exists(out + "/contact_sheet.png"));
  const auto manifest = detail::parse_csv(read_text_file(out + "/images.csv"), "m");
  EXPECT_EQ(manifest.size(), 6u);  // the unreadable image is left out
  // Usage errors exit 2.
  EXPECT_EQ(test::run_status(test::cli() + "standardize --data " + raw + " --out " + dir +
                             "/x --size big 2>/dev/null"),
            2);
  EXPECT_EQ(test::run_status(test::cli() + "standardize --data " + raw + " --out " + dir +
                             "/x --min-confidence 2 2>/dev/null"),
            2);
}
