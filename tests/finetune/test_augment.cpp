// Augmentation against hand-computed pixels: identity, an integer shift by index arithmetic,
// stain jitter keeping the white background white, brightness/contrast by formula, and draws that
// are a pure function of (seed, index).
#include <gtest/gtest.h>

#include <algorithm>
#include <opencv2/core.hpp>

#include "ishannot/nets/augment.h"

using namespace ishannot;

namespace {
cv::Mat random_image(int w, int h, uint64_t seed) {
  cv::Mat img(h, w, CV_8UC3);
  cv::RNG rng(seed);
  rng.fill(img, cv::RNG::UNIFORM, 0, 256);
  return img;
}
}  // namespace

TEST(Augment, DisabledIsIdentity) {
  AugmentParams p;
  p.enabled = false;
  const cv::Mat img = random_image(10, 6, 1);
  const AugmentDraw d = draw_augmentation(p, 1, 2);
  EXPECT_TRUE(d.is_identity());
  EXPECT_EQ(cv::norm(apply_augmentation(img, d), img, cv::NORM_INF), 0);
}

TEST(Augment, IntegerShiftMovesPixelsAndReplicatesTheBorder) {
  const cv::Mat img = random_image(10, 8, 2);
  AugmentDraw d;
  d.dx = 0.2;    // 2 pixels right
  d.dy = -0.25;  // 2 pixels up
  const cv::Mat out = apply_augmentation(img, d);
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 10; ++x) {
      const int sx = std::clamp(x - 2, 0, 9), sy = std::clamp(y + 2, 0, 7);
      ASSERT_EQ(out.at<cv::Vec3b>(y, x), img.at<cv::Vec3b>(sy, sx)) << x << "," << y;
    }
}

TEST(Augment, PhotometricFormula) {
  cv::Mat img(2, 2, CV_8UC3, cv::Scalar(255, 255, 255));
  img.at<cv::Vec3b>(0, 0) = {100, 150, 200};
  AugmentDraw stain;
  stain.stain = {1.2, 0.8, 1.2};
  cv::Mat out = apply_augmentation(img, stain);
  EXPECT_EQ(out.at<cv::Vec3b>(1, 1), cv::Vec3b(255, 255, 255));  // background stays white
  EXPECT_EQ(out.at<cv::Vec3b>(0, 0), cv::Vec3b(69, 171, 189));   // 255-(255-v)*f, rounded
  AugmentDraw bc;
  bc.contrast = 1.1;
  bc.brightness = -0.1;
  out = apply_augmentation(img, bc);
  // (v - 128) * 1.1 + 128 - 25.5
  EXPECT_EQ(out.at<cv::Vec3b>(0, 0), cv::Vec3b(72, 127, 182));
}

TEST(Augment, DrawsArePureFunctionsWithinBounds) {
  AugmentParams p;
  for (uint64_t i = 0; i < 200; ++i) {
    const AugmentDraw a = draw_augmentation(p, 9, i), b = draw_augmentation(p, 9, i);
    EXPECT_EQ(a.dx, b.dx);
    EXPECT_EQ(a.stain, b.stain);
    EXPECT_LE(std::abs(a.dx), p.shift);
    EXPECT_LE(std::abs(a.zoom - 1), p.scale);
    EXPECT_LE(std::abs(a.contrast - 1), p.contrast);
    for (double s : a.stain) EXPECT_LE(std::abs(s - 1), p.stain);
    EXPECT_FALSE(a.flip_horizontal);  // flips are off by default
  }
  EXPECT_NE(draw_augmentation(p, 9, 1).dx, draw_augmentation(p, 9, 2).dx);
  EXPECT_NE(draw_augmentation(p, 9, 1).dx, draw_augmentation(p, 10, 1).dx);
}
