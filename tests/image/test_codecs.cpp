// The codecs behind read_image_bgr and write_png (src/image/codecs.h) against OpenCV's own
// imgcodecs as the reference: the same pixels from every kind of PNG and JPEG, the same PNG
// bytes from the encoder, other formats through the dlopen'ed module, and no library of ours
// needing imgcodecs (the start-up it costs).
#include <gtest/gtest.h>
#include <png.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/image/image.h"
#include "support/test_paths.h"
#include "support/test_util.h"

using namespace ishannot;

namespace {

// What read_image_bgr returned before its own codecs: OpenCV's decoding, then 16 -> 8 bits by
// 1/257, grey -> BGR, alpha dropped.
cv::Mat opencv_reference(const std::string& path) {
  cv::Mat raw = cv::imread(path, cv::IMREAD_UNCHANGED | cv::IMREAD_IGNORE_ORIENTATION);
  EXPECT_FALSE(raw.empty()) << path;
  if (raw.depth() == CV_16U) raw.convertTo(raw, CV_8U, 1.0 / 257.0);
  cv::Mat bgr;
  if (raw.channels() == 1)
    cv::cvtColor(raw, bgr, cv::COLOR_GRAY2BGR);
  else if (raw.channels() == 4)
    cv::cvtColor(raw, bgr, cv::COLOR_BGRA2BGR);
  else
    bgr = raw;
  return bgr;
}

void expect_same_as_opencv(const std::string& path) {
  const cv::Mat ours = read_image_bgr(path);
  const cv::Mat reference = opencv_reference(path);
  ASSERT_EQ(ours.type(), CV_8UC3) << path;
  ASSERT_EQ(ours.size(), reference.size()) << path;
  EXPECT_EQ(cv::norm(ours, reference, cv::NORM_INF), 0.0) << path;
}

// An image with smooth gradients, edges and noise: what JPEG's DCT and chroma upsampling differ on.
cv::Mat test_picture(int width, int height, int channels, int depth = CV_8U) {
  cv::Mat m(height, width, CV_MAKETYPE(depth, channels));
  cv::randu(m, 0, depth == CV_8U ? 256 : 65536);
  cv::GaussianBlur(m, m, cv::Size(7, 7), 2.0);
  cv::rectangle(m, cv::Rect(width / 4, height / 4, width / 3, height / 3),
                cv::Scalar::all(depth == CV_8U ? 250 : 64000), -1);
  return m;
}

// Kinds of PNG OpenCV cannot write (palette, transparency, grey + alpha, 1-4 bit grey,
// interlaced), written here with libpng's plain writer: rows of `bytes_per_row`.
void write_png_raw(const std::string& path, int width, int height, int colour_type, int bit_depth,
                   bool interlaced, const std::vector<std::vector<png_byte>>& rows,
                   const std::vector<png_color>& palette = {},
                   const std::vector<png_byte>& transparency = {}) {
  FILE* file = std::fopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr) << path;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  png_init_io(png, file);
  png_set_IHDR(png, info, static_cast<png_uint_32>(width), static_cast<png_uint_32>(height),
               bit_depth, colour_type, interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (!palette.empty()) png_set_PLTE(png, info, palette.data(), static_cast<int>(palette.size()));
  if (!transparency.empty()) {
    png_color_16 grey{};
    grey.gray = 3;
    png_set_tRNS(png, info, transparency.data(), static_cast<int>(transparency.size()),
                 colour_type == PNG_COLOR_TYPE_GRAY ? &grey : nullptr);
  }
  png_write_info(png, info);
  std::vector<png_bytep> pointers;
  for (const auto& row : rows) pointers.push_back(const_cast<png_bytep>(row.data()));
  png_write_image(png, pointers.data());
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  std::fclose(file);
}

std::vector<std::vector<png_byte>> pattern_rows(int height, size_t bytes_per_row, int seed) {
  std::vector<std::vector<png_byte>> rows(static_cast<size_t>(height),
                                          std::vector<png_byte>(bytes_per_row));
  for (int y = 0; y < height; ++y)
    for (size_t x = 0; x < bytes_per_row; ++x)
      rows[static_cast<size_t>(y)][x] =
          static_cast<png_byte>((x * 37 + y * 11 + seed) * 2654435761u >> 24);
  return rows;
}

}  // namespace

TEST(Codecs, PngOfEveryLayoutDecodesAsOpenCvDoes) {
  const auto dir = test::temp_dir("codecs-png");
  std::vector<std::string> files;
  auto add = [&](const std::string& name, const cv::Mat& m) {
    files.push_back(dir + "/" + name);
    ASSERT_TRUE(cv::imwrite(files.back(), m));
  };
  add("grey.png", test_picture(67, 41, 1));
  add("bgr.png", test_picture(67, 41, 3));
  add("bgra.png", test_picture(67, 41, 4));
  add("grey16.png", test_picture(67, 41, 1, CV_16U));
  add("bgr16.png", test_picture(67, 41, 3, CV_16U));
  add("bgra16.png", test_picture(67, 41, 4, CV_16U));
  const int w = 53, h = 29;
  std::vector<png_color> palette;
  for (int i = 0; i < 256; ++i)
    palette.push_back(
        {static_cast<png_byte>(i), static_cast<png_byte>(255 - i), static_cast<png_byte>(i * 7)});
  const std::vector<png_byte> alphas = {0, 128, 255, 7};
  struct Raw {
    std::string name;
    int colour_type, bit_depth;
    size_t bytes_per_row;
    bool interlaced, with_palette, with_transparency;
  };
  const std::vector<Raw> raws = {
      {"palette.png", PNG_COLOR_TYPE_PALETTE, 8, w, false, true, false},
      {"palette_trns.png", PNG_COLOR_TYPE_PALETTE, 8, w, false, true, true},
      {"palette4.png", PNG_COLOR_TYPE_PALETTE, 4, (w + 1) / 2, false, true, false},
      {"grey1.png", PNG_COLOR_TYPE_GRAY, 1, (w + 7) / 8, false, false, false},
      {"grey2.png", PNG_COLOR_TYPE_GRAY, 2, (w + 3) / 4, false, false, false},
      {"grey4_trns.png", PNG_COLOR_TYPE_GRAY, 4, (w + 1) / 2, false, false, true},
      {"grey_alpha.png", PNG_COLOR_TYPE_GRAY_ALPHA, 8, 2 * w, false, false, false},
      {"grey_alpha16.png", PNG_COLOR_TYPE_GRAY_ALPHA, 16, 4 * w, false, false, false},
      {"rgb_interlaced.png", PNG_COLOR_TYPE_RGB, 8, 3 * w, true, false, false},
      {"rgba16_interlaced.png", PNG_COLOR_TYPE_RGB_ALPHA, 16, 8 * w, true, false, false},
  };
  int seed = 0;
  for (const auto& r : raws) {
    files.push_back(dir + "/" + r.name);
    write_png_raw(files.back(), w, h, r.colour_type, r.bit_depth, r.interlaced,
                  pattern_rows(h, r.bytes_per_row, ++seed),
                  r.with_palette ? std::vector<png_color>(palette.begin(),
                                                          palette.begin() + (1 << r.bit_depth))
                                 : std::vector<png_color>{},
                  r.with_transparency ? alphas : std::vector<png_byte>{});
  }
  for (const auto& file : files) expect_same_as_opencv(file);
}

TEST(Codecs, JpegOfEveryKindDecodesAsOpenCvDoes) {
  const auto dir = test::temp_dir("codecs-jpeg");
  const cv::Mat colour = test_picture(131, 77, 3);  // odd sizes: partial MCUs
  const cv::Mat grey = test_picture(131, 77, 1);
  const std::vector<std::pair<std::string, std::vector<int>>> settings = {
      {"q95.jpg", {cv::IMWRITE_JPEG_QUALITY, 95}},
      {"q40.jpg", {cv::IMWRITE_JPEG_QUALITY, 40}},
      {"progressive.jpg", {cv::IMWRITE_JPEG_PROGRESSIVE, 1}},
      {"optimized.jpg", {cv::IMWRITE_JPEG_OPTIMIZE, 1}},
      {"restart.jpg", {cv::IMWRITE_JPEG_RST_INTERVAL, 3}},
  };
  for (const auto& [name, params] : settings) {
    ASSERT_TRUE(cv::imwrite(dir + "/" + name, colour, params));
    expect_same_as_opencv(dir + "/" + name);
  }
  ASSERT_TRUE(cv::imwrite(dir + "/grey.jpg", grey));
  expect_same_as_opencv(dir + "/grey.jpg");
}

TEST(Codecs, RealPhotosAndBdgpImagesDecodeAsOpenCvDoes) {
  int checked = 0;
  for (const char* name : {"baboon.jpg", "orange.jpg", "messi5.jpg"}) {
    const std::string path = test::photo(name);
    if (!std::filesystem::exists(path)) continue;
    expect_same_as_opencv(path);
    ++checked;
  }
  const std::string shared = test::shared_data_dir();
  if (!shared.empty()) {
    int n = 0;
    for (const auto& entry : std::filesystem::directory_iterator(shared + "/bdgp-mini/images")) {
      if (n++ % 20 != 0) continue;  // 10 of the 193
      expect_same_as_opencv(entry.path().string());
      ++checked;
    }
  }
  if (checked == 0)
    GTEST_SKIP() << "neither the setup's photos (" << cache_dir()
                 << "/photos) nor ../shared/data/bdgp-mini found";
}

TEST(Codecs, OtherFormatsGoThroughOpenCvsModule) {
  const auto dir = test::temp_dir("codecs-other");
  const cv::Mat colour = test_picture(45, 23, 3);
  for (const char* name : {"a.bmp", "a.tif", "a.ppm", "a.webp"}) {
    const std::string path = dir + "/" + name;
    ASSERT_TRUE(cv::imwrite(path, colour)) << path;
    expect_same_as_opencv(path);
  }
  ASSERT_TRUE(cv::imwrite(dir + "/b16.tif", test_picture(45, 23, 3, CV_16U)));
  expect_same_as_opencv(dir + "/b16.tif");
}

TEST(Codecs, CorruptPngAndJpegGiveOneLineNamingTheFile) {
  const auto dir = test::temp_dir("codecs-corrupt");
  const cv::Mat colour = test_picture(64, 48, 3);
  std::vector<unsigned char> png, jpg;
  cv::imencode(".png", colour, png);
  cv::imencode(".jpg", colour, jpg);
  // Damage the middle (the end markers stay, so the truncation check does not catch it).
  for (size_t i = png.size() / 2; i < png.size() / 2 + 40; ++i) png[i] ^= 0x5A;
  for (size_t i = 200; i < jpg.size() - 2; ++i) jpg[i] = 0xFF;  // markers where data should be
  write_bytes(dir + "/bad.png", png);
  write_bytes(dir + "/bad.jpg", jpg);
  for (const char* name : {"bad.png", "bad.jpg"}) {
    const std::string path = dir + "/" + name;
    const std::string message = test::error_text([&] { read_image_bgr(path); });
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("not a decodable image"), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

TEST(Codecs, PngBytesAreOpenCvsForEachCompression) {
  for (int channels : {1, 3, 4}) {
    const cv::Mat m = test_picture(97, 61, channels);
    struct Case {
      PngCompression ours;
      std::vector<int> opencv;
    };
    const std::vector<Case> cases = {
        {PngCompression::kDefault, {}},
        {PngCompression::kHuffmanOnly,
         {cv::IMWRITE_PNG_STRATEGY, cv::IMWRITE_PNG_STRATEGY_HUFFMAN_ONLY}},
        {PngCompression::kSmallest, {cv::IMWRITE_PNG_COMPRESSION, 9}},
    };
    for (const auto& c : cases) {
      std::vector<unsigned char> reference;
      ASSERT_TRUE(cv::imencode(".png", m, reference, c.opencv));
      const std::vector<unsigned char> ours = encode_png(m, c.ours);
      EXPECT_TRUE(ours == reference)
          << channels << " channels, setting " << static_cast<int>(c.ours) << ": " << ours.size()
          << " bytes, OpenCV " << reference.size();
      // And OpenCV reads back the pixels.
      const cv::Mat back = cv::imdecode(ours, cv::IMREAD_UNCHANGED);
      ASSERT_EQ(back.size(), m.size());
      EXPECT_EQ(cv::norm(back, m, cv::NORM_INF), 0.0);
    }
  }
  EXPECT_THROW(encode_png(cv::Mat(4, 4, CV_16UC3)), Error);
  EXPECT_THROW(encode_png(cv::Mat()), Error);
  const auto dir = test::temp_dir("codecs-write");
  const std::string message =
      test::error_text([&] { write_png(dir + "/f.png", cv::Mat(3, 3, CV_32FC1)); });
  EXPECT_NE(message.find(dir + "/f.png"), std::string::npos) << message;
}

// A missing codecs module is one line naming the image and the module; PNG and JPEG never need it.
TEST(Codecs, MissingOpenCvModuleIsOneLineAndPngStillReads) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // a fresh process: the module not yet loaded
  const auto dir = test::temp_dir("codecs-missing");
  ASSERT_TRUE(cv::imwrite(dir + "/a.bmp", test_picture(8, 8, 3)));
  ASSERT_TRUE(cv::imwrite(dir + "/a.png", test_picture(8, 8, 3)));
  EXPECT_EXIT(
      {
        setenv("ISHANNOT_IMGCODECS_MODULE", "/nonexistent/libishannot_imgcodecs.so", 1);
        const cv::Mat png = read_image_bgr(dir + "/a.png");
        std::fprintf(stderr, "png %dx%d\n", png.cols, png.rows);
        std::fprintf(stderr, "%s\n",
                     test::error_text([&] { read_image_bgr(dir + "/a.bmp"); }).c_str());
        std::exit(3);
      },
      testing::ExitedWithCode(3),
      "png 8x8\n.*a\\.bmp: needs OpenCV's image codecs.*/nonexistent/libishannot_imgcodecs\\.so.*");
}

// What the start-up gains: no library the command line loads needs OpenCV's imgcodecs (nor GDAL
// behind it). ldd lists the whole closure.
TEST(Codecs, NoLibraryOfOursNeedsImgcodecs) {
  const std::string build = std::filesystem::path(test::ishannot_binary()).parent_path().string();
  for (const char* library : {"libishannot_cli.so", "libishannot_image.so"}) {
    const std::string out = test::temp_dir("codecs-ldd") + "/ldd.txt";
    ASSERT_EQ(std::system(("ldd " + build + "/" + library + " > " + out).c_str()), 0) << library;
    std::ifstream in(out);
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    EXPECT_NE(text.find("libopencv_core"), std::string::npos) << text;  // ldd did list it
    EXPECT_EQ(text.find("imgcodecs"), std::string::npos) << library << ":\n" << text;
    EXPECT_EQ(text.find("libgdal"), std::string::npos) << library << ":\n" << text;
  }
}
