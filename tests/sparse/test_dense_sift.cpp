// Dense SIFT on images whose gradients we know: counts and positions from the grid geometry,
// blank images as low contrast, and ramps whose energy must fall in one orientation bin.
#include <gtest/gtest.h>

#include "ishannot/common/error.h"
#include "ishannot/image/image.h"
#include "ishannot/sparse/dense_sift.h"
#include "support/test_paths.h"

using namespace ishannot;

namespace {

cv::Mat ramp(int width, int height, bool horizontal) {
  cv::Mat m(height, width, CV_8UC3);
  for (int r = 0; r < height; ++r) {
    for (int c = 0; c < width; ++c) {
      const auto v = static_cast<uchar>(horizontal ? 20 + c * 200 / width : 20 + r * 200 / height);
      m.at<cv::Vec3b>(r, c) = cv::Vec3b(v, v, v);
    }
  }
  return m;
}

// Fraction of a descriptor's squared energy in orientation bin `t` (orientation is the fastest
// index of VLFeat's 4x4x8 layout).
double energy_in_orientation(const Eigen::VectorXf& d, int t) {
  double in = 0;
  for (int i = t; i < 128; i += 8) in += d[i] * d[i];
  return in / d.squaredNorm();
}

int dominant_orientation(const Eigen::VectorXf& d) {
  int best = 0;
  for (int t = 1; t < 8; ++t)
    if (energy_in_orientation(d, t) > energy_in_orientation(d, best)) best = t;
  return best;
}

}  // namespace

TEST(DenseSift, GridGeometryOn320x128) {
  cv::Mat noise(128, 320, CV_8UC3);
  cv::randu(noise, cv::Scalar::all(0), cv::Scalar::all(255));
  const auto s = dense_sift(noise, DenseSiftParams{});
  // 16 px patches (bins of 4 px) every 8 px: (319 - 12) / 8 + 1 = 39 columns, (127 - 12) / 8 + 1
  // = 15 rows; the first centre lies 1.5 bins from the border.
  ASSERT_EQ(s.count(), 39 * 15);
  EXPECT_EQ(s.descriptors.rows(), 128);
  EXPECT_FLOAT_EQ(s.x[0], 6.0f);
  EXPECT_FLOAT_EQ(s.y[0], 6.0f);
  EXPECT_FLOAT_EQ(s.x[1] - s.x[0], 8.0f);
  EXPECT_EQ(s.above_threshold(), s.count());
  for (int j = 0; j < s.count(); ++j) EXPECT_NEAR(s.descriptors.col(j).norm(), 1.0, 1e-4);
}

TEST(DenseSift, RampsPutTheirEnergyInOneOrientation) {
  // Slopes of ~4 grey levels per px: well above the contrast threshold.
  const auto h = dense_sift(ramp(48, 48, true), DenseSiftParams{});
  const auto v = dense_sift(ramp(48, 48, false), DenseSiftParams{});
  ASSERT_EQ(h.above_threshold(), h.count());
  ASSERT_EQ(v.above_threshold(), v.count());
  const int th = dominant_orientation(h.descriptors.col(0));
  const int tv = dominant_orientation(v.descriptors.col(0));
  EXPECT_NE(th, tv);
  EXPECT_EQ((th - tv + 8) % 4, 2);  // perpendicular gradients: 2 of 8 bins (90 degrees) apart
  for (int j = 0; j < h.count(); ++j) {
    EXPECT_GT(energy_in_orientation(h.descriptors.col(j), th), 0.95) << j;
    EXPECT_GT(energy_in_orientation(v.descriptors.col(j), tv), 0.95) << j;
  }
}

TEST(DenseSift, BlankImageIsAllLowContrast) {
  const cv::Mat blank(128, 320, CV_8UC3, cv::Scalar(240, 240, 240));
  const auto s = dense_sift(blank, DenseSiftParams{});
  EXPECT_EQ(s.count(), 585);
  EXPECT_EQ(s.above_threshold(), 0);
  EXPECT_EQ(s.descriptors.squaredNorm(), 0.0f);
}

TEST(DenseSift, MultiScaleAddsAlignedScales) {
  DenseSiftParams p;
  p.patch_sizes = {16, 24};
  const auto s = dense_sift(ramp(320, 128, true), p);
  // vl_phow alignment: the 16 px grid is shifted by 1.5 * (6 - 4) = 3 px so both scales share
  // centres (first at 3 + 6 = 0 + 9 = 9 px). 16 px: (319 - 3 - 12) / 8 + 1 = 39 columns,
  // (127 - 3 - 12) / 8 + 1 = 15 rows; 24 px: (319 - 18) / 8 + 1 = 38, (127 - 18) / 8 + 1 = 14.
  EXPECT_EQ(s.count(), 39 * 15 + 38 * 14);
  EXPECT_FLOAT_EQ(s.x[0], 9.0f);
  EXPECT_FLOAT_EQ(s.x[585], 9.0f);
  EXPECT_FLOAT_EQ(s.y[585], 9.0f);
}

TEST(DenseSift, StainChannelAndBadInput) {
  cv::Mat px(1, 2, CV_8UC3);
  px.at<cv::Vec3b>(0, 0) = cv::Vec3b(200, 90, 50);    // blue-purple: B - R = 150
  px.at<cv::Vec3b>(0, 1) = cv::Vec3b(150, 200, 230);  // beige: B < R -> 0
  const cv::Mat plane = sift_plane(px, SiftChannel::kStain);
  EXPECT_FLOAT_EQ(plane.at<float>(0, 0), 150.0f / 255.0f);
  EXPECT_FLOAT_EQ(plane.at<float>(0, 1), 0.0f);
  EXPECT_THROW(dense_sift(cv::Mat(10, 10, CV_8UC3, cv::Scalar(0)), DenseSiftParams{}), Error);
  DenseSiftParams bad;
  bad.patch_sizes = {18};
  EXPECT_NE(bad.check(), "");
  EXPECT_THROW(parse_sift_channel("red"), Error);
}

TEST(DenseSift, RealBdgpImageHasMostlyInformativeDescriptors) {
  ISHANNOT_SKIP_WITHOUT_SHARED();
  const std::string path = test::shared_data_dir() + "/bdgp-mini/images/insitu18837.png";
  const auto s = dense_sift(read_image_bgr(path), DenseSiftParams{});
  EXPECT_EQ(s.count(), 585);
  // The white background around the embryo is low contrast; the embryo is not.
  EXPECT_GT(s.above_threshold(), 400);
  EXPECT_LT(s.above_threshold(), 585);
  const auto stain =
      dense_sift(read_image_bgr(path), DenseSiftParams{{16}, 8, SiftChannel::kStain});
  EXPECT_EQ(stain.count(), 585);
}
