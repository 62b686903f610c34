// Heat maps show confidence: one fixed colour scale (equal evidence -> equal colour on every image,
// whatever else the image's map holds; checked against the scale's formula worked by hand),
// nothing painted outside the embryo (pixels outside a drawn embryo stay exactly as they were),
// the embryo mask against the ellipse it was drawn from, and the figure's caption strip.
#include <gtest/gtest.h>

#include <cmath>
#include <opencv2/imgproc.hpp>

#include "ishannot/annotate/heatmap.h"
#include "ishannot/common/error.h"

using namespace ishannot;

namespace {

// A BDGP-like image: light background, a darker textured embryo (an ellipse) with a lighter
// streak inside it; and the ellipse's own mask.
struct Drawn {
  cv::Mat bgr, ellipse;
};

Drawn embryo_image(int width, int height, cv::Point centre, cv::Size axes, int grey) {
  Drawn d;
  d.bgr = cv::Mat(height, width, CV_8UC3, cv::Scalar(246, 248, 250));
  d.ellipse = cv::Mat(height, width, CV_8U, cv::Scalar(0));
  cv::ellipse(d.ellipse, centre, axes, 0, 0, 360, cv::Scalar(255), -1);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      if (d.ellipse.at<uchar>(y, x)) {
        const int t = grey + ((x * 7 + y * 13) % 11) - 5;
        d.bgr.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<uchar>(t + 20), static_cast<uchar>(t),
                                              static_cast<uchar>(t + 10));
      }
  // A light streak inside the embryo (like unstained yolk): a hole the mask must fill.
  cv::line(d.bgr, {centre.x - axes.width / 3, centre.y}, {centre.x + axes.width / 3, centre.y},
           {240, 242, 244}, 3);
  return d;
}

double iou(const cv::Mat& a, const cv::Mat& b) {
  const double both = cv::countNonZero(a & b), any = cv::countNonZero(a | b);
  return both / any;
}

// The scale by hand: alpha = 0.75 min(1, |v| / logit(0.99)), red (BGR 0,0,255) for v > 0.
cv::Vec3b blended(const cv::Vec3b& under, double v) {
  const double alpha = 0.75 * std::min(1.0, std::fabs(v) / std::log(0.99 / 0.01));
  const double colour[3] = {v > 0 ? 0.0 : 255.0, v > 0 ? 0.0 : 64.0, v > 0 ? 255.0 : 0.0};
  cv::Vec3b out;
  for (int c = 0; c < 3; ++c)
    out[c] = static_cast<uchar>((1 - alpha) * under[c] + alpha * colour[c] + 0.5);
  return out;
}

}  // namespace

TEST(HeatmapScale, EmbryoMaskIsTheDrawnEmbryoWithItsHolesFilled) {
  const Drawn a = embryo_image(320, 128, {160, 64}, {140, 52}, 150);
  EXPECT_GT(iou(embryo_mask(a.bgr), a.ellipse), 0.97);
  const Drawn b = embryo_image(500, 300, {200, 170}, {120, 70}, 200);  // faint, off centre
  EXPECT_GT(iou(embryo_mask(b.bgr), b.ellipse), 0.95);
  const cv::Mat blank(50, 80, CV_8UC3, cv::Scalar(250, 250, 250));
  EXPECT_EQ(cv::countNonZero(embryo_mask(blank)), 50 * 80) << "no embryo found: the whole image";
}

TEST(HeatmapScale, PixelsOutsideTheEmbryoAreUntouched) {
  const Drawn d = embryo_image(320, 128, {160, 64}, {120, 44}, 140);
  const std::vector<Eigen::MatrixXd> maps = {Eigen::MatrixXd::Constant(4, 10, 0.5)};
  const cv::Mat field = evidence_field(maps, 0.0, d.bgr.cols, d.bgr.rows);
  const cv::Mat out = render_evidence_overlay(d.bgr, field, embryo_mask(d.bgr));
  cv::Mat margin;  // the ellipse grown by 3 pixels: everything outside it is background
  cv::dilate(d.ellipse, margin, cv::getStructuringElement(cv::MORPH_ELLIPSE, {7, 7}));
  int outside = 0, inside_changed = 0, inside = 0;
  for (int y = 0; y < out.rows; ++y)
    for (int x = 0; x < out.cols; ++x) {
      if (!margin.at<uchar>(y, x)) {
        ++outside;
        ASSERT_EQ(out.at<cv::Vec3b>(y, x), d.bgr.at<cv::Vec3b>(y, x)) << x << "," << y;
      } else if (d.ellipse.at<uchar>(y, x)) {
        ++inside;
        inside_changed += out.at<cv::Vec3b>(y, x) != d.bgr.at<cv::Vec3b>(y, x);
      }
    }
  EXPECT_GT(outside, 5000);
  EXPECT_GT(inside_changed, inside * 95 / 100);
}

TEST(HeatmapScale, EqualEvidenceHasEqualColoursAcrossImages) {
  // Two images of different sizes; the same evidence (0.05 log-odds per cell of a 4 x 10 grid,
  // v = 0.05 * 40 + 0.3 = 2.3) where they are compared, but image B also holds one cell ten
  // times stronger, which an image-by-image scale would let dim everything else.
  Drawn a = embryo_image(320, 128, {160, 64}, {150, 60}, 150);
  Drawn b = embryo_image(640, 256, {320, 128}, {300, 120}, 150);
  // The centre of cell (2, 3) of each, given the same colour in both images.
  const cv::Point pa(3 * 32 + 16, 2 * 32 + 16), pb(3 * 64 + 32, 2 * 64 + 32);
  const cv::Vec3b under(120, 100, 110);
  a.bgr.at<cv::Vec3b>(pa) = under;
  b.bgr.at<cv::Vec3b>(pb) = under;
  const Eigen::MatrixXd grid_a = Eigen::MatrixXd::Constant(4, 10, 0.05);
  Eigen::MatrixXd grid_b = grid_a;
  grid_b(0, 9) = 0.5;
  const cv::Mat out_a = render_evidence_overlay(
      a.bgr, evidence_field({grid_a}, 0.3, a.bgr.cols, a.bgr.rows), embryo_mask(a.bgr));
  const cv::Mat out_b = render_evidence_overlay(
      b.bgr, evidence_field({grid_b}, 0.3, b.bgr.cols, b.bgr.rows), embryo_mask(b.bgr));
  EXPECT_EQ(out_a.at<cv::Vec3b>(pa), blended(under, 2.3));
  EXPECT_EQ(out_a.at<cv::Vec3b>(pa), out_b.at<cv::Vec3b>(pb));
  // A weak call does not look like a strong one: v = 0.1 vs v = 4.6.
  EXPECT_LT(evidence_colour(0.1).alpha, 0.02f);
  EXPECT_FLOAT_EQ(evidence_colour(4.6).alpha, 0.75f);
  EXPECT_FLOAT_EQ(evidence_colour(-40).alpha, 0.75f);
  EXPECT_EQ(evidence_colour(-1).bgr, cv::Vec3b(255, 64, 0));
}

TEST(HeatmapScale, FieldAveragesToTheDecision) {
  // One 4 x 10 layer and one 2 x 5 layer: v's mean over the image is sum(cells) + bias.
  Eigen::MatrixXd fine(4, 10), coarse(2, 5);
  for (int i = 0; i < 40; ++i) fine(i / 10, i % 10) = 0.01 * ((i * 7) % 13) - 0.05;
  for (int i = 0; i < 10; ++i) coarse(i / 5, i % 5) = 0.02 * i - 0.1;
  const double total = fine.sum() + coarse.sum() + 0.25;
  const cv::Mat field = evidence_field({fine, coarse}, 0.25, 320, 128);
  EXPECT_NEAR(cv::mean(field)[0], total, 0.02 * (std::fabs(total) + 1));
}

TEST(HeatmapScale, FigureHasTheImageAboveACaptionStrip) {
  const Drawn d = embryo_image(320, 128, {160, 64}, {120, 44}, 140);
  const cv::Mat figure = heatmap_figure(d.bgr, {"ventral nerve cord (stage 13-16)", "x: score"});
  EXPECT_EQ(figure.cols, 320);
  EXPECT_GT(figure.rows, 128 + 2 * 14);
  EXPECT_EQ(cv::norm(figure(cv::Rect(0, 0, 320, 128)), d.bgr, cv::NORM_INF), 0);
  // The colour bar in the strip: red at its right end, blue at its left.
  int reddest = 0, bluest = 0;
  for (int y = 128; y < figure.rows; ++y)
    for (int x = 0; x < figure.cols; ++x) {
      const cv::Vec3b p = figure.at<cv::Vec3b>(y, x);
      reddest = std::max(reddest, p[2] - p[0]);
      bluest = std::max(bluest, p[0] - p[2]);
    }
  EXPECT_GT(bluest, 120);
  EXPECT_GT(reddest, 120);
}
