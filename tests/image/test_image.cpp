#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>

#include "ishannot/common/error.h"
#include "ishannot/image/image.h"
#include "support/test_paths.h"
#include "support/test_util.h"

using namespace ishannot;

namespace {

std::string write_png(const std::string& dir, const std::string& name, const cv::Mat& m) {
  const std::string path = dir + "/" + name;
  EXPECT_TRUE(cv::imwrite(path, m));
  return path;
}

}  // namespace

TEST(Image, ReadsGreyAndAlphaAsBgr) {
  const auto dir = test::temp_dir("image");
  cv::Mat grey(8, 10, CV_8UC1, cv::Scalar(77));
  cv::Mat bgra(8, 10, CV_8UC4, cv::Scalar(1, 2, 3, 200));
  cv::Mat g = read_image_bgr(write_png(dir, "g.png", grey));
  cv::Mat c = read_image_bgr(write_png(dir, "c.png", bgra));
  ASSERT_EQ(g.channels(), 3);
  EXPECT_EQ(g.at<cv::Vec3b>(3, 4), cv::Vec3b(77, 77, 77));
  ASSERT_EQ(c.channels(), 3);
  EXPECT_EQ(c.at<cv::Vec3b>(0, 0), cv::Vec3b(1, 2, 3));
}

TEST(Image, BadFilesGiveOneLineErrorsNamingTheFile) {
  const auto dir = test::temp_dir("image-bad");
  cv::Mat m(64, 64, CV_8UC3, cv::Scalar(10, 20, 30));
  cv::randu(m, 0, 255);
  const auto png = write_png(dir, "t.png", m);
  test::truncate_file(png, std::filesystem::file_size(png) * 6 / 10);
  const auto jpg = dir + "/t.jpg";
  cv::imwrite(jpg, m);
  test::truncate_file(jpg, std::filesystem::file_size(jpg) * 6 / 10);
  const auto junk = dir + "/junk.png";
  std::ofstream(junk) << "this is not an image";

  const std::vector<std::pair<std::string, std::string>> cases = {
      {png, "truncated PNG"},
      {jpg, "truncated JPEG"},
      {junk, "not a decodable image"},
      {dir + "/missing.png", "no such"}};
  for (const auto& [path, expected] : cases) {
    const std::string message = test::error_text([&] { read_image_bgr(path); });
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find(expected), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos);
  }
}

TEST(Image, InputSizeParsing) {
  int w = 0, h = 0;
  ResizePolicy p;
  parse_input_size("224x224", &w, &h, &p);
  EXPECT_EQ(w, 224);
  EXPECT_EQ(h, 224);
  EXPECT_EQ(p, ResizePolicy::kSquash);
  parse_input_size("native", &w, &h, &p);
  EXPECT_EQ(p, ResizePolicy::kNative);
  EXPECT_THROW(parse_input_size("224", &w, &h, &p), Error);
  EXPECT_THROW(parse_input_size("224x", &w, &h, &p), Error);
}
