// standardize: the embryo mask, its axis and extents, the rotated crop (image/standardize.h).
#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "ishannot/common/error.h"
#include "ishannot/standardize/standardize.h"

namespace ishannot {

std::string StandardizeParams::check() const {
  if (width < 8 || height < 8 || width > 4096 || height > 4096)
    return "output size must be 8..4096 pixels per side";
  if (!(margin >= 0 && margin <= 0.5)) return "margin must be in 0..0.5";
  if (work_side < 64) return "work side must be >= 64";
  if (!(min_confidence >= 0.5 && min_confidence <= 1)) return "min confidence must be in 0.5..1";
  return "";
}

namespace {

// The largest 8-connected component of a binary mask, holes filled; its border-touching pixels.
cv::Mat largest_component(const cv::Mat& binary, int* border_pixels) {
  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(binary, labels, stats, centroids, 8);
  int best = 0;
  for (int i = 1; i < n; ++i)
    if (best == 0 || stats.at<int>(i, cv::CC_STAT_AREA) > stats.at<int>(best, cv::CC_STAT_AREA))
      best = i;
  cv::Mat mask = cv::Mat::zeros(binary.size(), CV_8U);
  *border_pixels = 0;
  if (best == 0) return mask;
  mask = labels == best;
  // Fill holes: what the border cannot reach through the background is inside.
  cv::Mat filled = mask.clone();
  cv::copyMakeBorder(filled, filled, 1, 1, 1, 1, cv::BORDER_CONSTANT, 0);
  cv::floodFill(filled, cv::Point(0, 0), 128);
  filled = filled(cv::Rect(1, 1, mask.cols, mask.rows)) != 128;
  const int w = mask.cols, h = mask.rows;
  *border_pixels = cv::countNonZero(filled.row(0)) + cv::countNonZero(filled.row(h - 1)) +
                   cv::countNonZero(filled.col(0)) + cv::countNonZero(filled.col(w - 1));
  return filled;
}

// The embryo on the working copy: pixels that differ from the background's colour (the median of
// the four corner patches) by more than max(10, 6 x its noise), opened, largest component, holes
// filled. A threshold between background and embryo (not Otsu's, which splits off the darkest
// stain when the embryo is pale).
cv::Mat embryo_mask(const cv::Mat& bgr, int* border_pixels) {
  cv::Mat blurred;
  const double sigma = std::max(1.0, std::max(bgr.cols, bgr.rows) / 200.0);
  cv::GaussianBlur(bgr, blurred, cv::Size(), sigma);
  const int cw = std::max(2, bgr.cols / 20), ch = std::max(2, bgr.rows / 20);
  std::vector<std::vector<uchar>> values(3);
  for (const cv::Point corner :
       {cv::Point(0, 0), cv::Point(bgr.cols - cw, 0), cv::Point(0, bgr.rows - ch),
        cv::Point(bgr.cols - cw, bgr.rows - ch)})
    for (int y = corner.y; y < corner.y + ch; ++y)
      for (int x = corner.x; x < corner.x + cw; ++x)
        for (int c = 0; c < 3; ++c) values[c].push_back(blurred.at<cv::Vec3b>(y, x)[c]);
  cv::Scalar background;
  double noise = 0;
  for (int c = 0; c < 3; ++c) {
    auto& v = values[c];
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    background[c] = v[v.size() / 2];
    std::vector<double> dev;
    for (uchar x : v) dev.push_back(std::abs(x - background[c]));
    std::nth_element(dev.begin(), dev.begin() + dev.size() / 2, dev.end());
    noise = std::max(noise, 1.4826 * dev[dev.size() / 2]);
  }
  cv::Mat diff;
  cv::absdiff(blurred, background, diff);
  std::vector<cv::Mat> planes;
  cv::split(diff, planes);
  cv::Mat distance = cv::max(cv::max(planes[0], planes[1]), planes[2]);
  cv::Mat binary = distance > std::max(10.0, 6.0 * noise);
  const int k = std::max(3, static_cast<int>(sigma * 2) | 1);
  cv::morphologyEx(binary, binary, cv::MORPH_OPEN,
                   cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(k, k)));
  return largest_component(binary, border_pixels);
}

struct Axis {
  cv::Point2d centre, along, across;  // along: unit, x >= 0; across: along turned +90 deg on screen
  double length = 0, width = 0;
};

Axis principal_axis(const cv::Mat& mask) {
  std::vector<cv::Point> points;
  cv::findNonZero(mask, points);
  cv::Mat data(static_cast<int>(points.size()), 2, CV_64F);
  for (size_t i = 0; i < points.size(); ++i) {
    data.at<double>(static_cast<int>(i), 0) = points[i].x;
    data.at<double>(static_cast<int>(i), 1) = points[i].y;
  }
  cv::PCA pca(data, cv::Mat(), cv::PCA::DATA_AS_ROW);
  Axis axis;
  axis.along = {pca.eigenvectors.at<double>(0, 0), pca.eigenvectors.at<double>(0, 1)};
  if (axis.along.x < 0 || (axis.along.x == 0 && axis.along.y > 0)) axis.along = -axis.along;
  axis.across = {-axis.along.y, axis.along.x};
  const cv::Point2d mean(pca.mean.at<double>(0, 0), pca.mean.at<double>(0, 1));
  double lo_a = 1e300, hi_a = -1e300, lo_c = 1e300, hi_c = -1e300;
  for (const auto& p : points) {
    const cv::Point2d d = cv::Point2d(p.x, p.y) - mean;
    const double a = d.dot(axis.along), c = d.dot(axis.across);
    lo_a = std::min(lo_a, a), hi_a = std::max(hi_a, a);
    lo_c = std::min(lo_c, c), hi_c = std::max(hi_c, c);
  }
  axis.length = hi_a - lo_a + 1;  // pixel extents: centres of the end pixels are 1 px apart more
  axis.width = hi_c - lo_c + 1;
  axis.centre = mean + axis.along * ((lo_a + hi_a) / 2) + axis.across * ((lo_c + hi_c) / 2);
  return axis;
}

// Output pixel (u, v) samples source point centre + (u - W/2 + 0.5) s along + (v - H/2 + 0.5) s
// across: the inverse map for warpAffine.
cv::Mat warp_crop(const cv::Mat& bgr, const Axis& axis, double crop_width,
                  const StandardizeParams& p, const cv::Scalar& fill) {
  double s = crop_width / p.width;
  cv::Mat src = bgr;
  double pre = 1.0;
  if (s > 2.0) {  // shrink first (area interpolation), so that the warp samples ~1:1
    pre = 1.0 / (s / 1.5);
    cv::resize(bgr, src, cv::Size(), pre, pre, cv::INTER_AREA);
    s *= pre;
  }
  const cv::Point2d c = (axis.centre + cv::Point2d(0.5, 0.5)) * pre - cv::Point2d(0.5, 0.5);
  const double ox = -p.width / 2.0 + 0.5, oy = -p.height / 2.0 + 0.5;
  cv::Mat m = (cv::Mat_<double>(2, 3) << s * axis.along.x, s * axis.across.x,
               c.x + s * (ox * axis.along.x + oy * axis.across.x), s * axis.along.y,
               s * axis.across.y, c.y + s * (ox * axis.along.y + oy * axis.across.y));
  cv::Mat out;
  cv::warpAffine(src, out, m, cv::Size(p.width, p.height), cv::INTER_LINEAR | cv::WARP_INVERSE_MAP,
                 cv::BORDER_CONSTANT, fill);
  return out;
}

}  // namespace

StandardizeResult locate_and_crop(const cv::Mat& bgr, const StandardizeParams& params) {
  if (const std::string problem = params.check(); !problem.empty()) throw Error(problem);
  StandardizeResult r;
  const double scale = std::min(1.0, params.work_side / double(std::max(bgr.cols, bgr.rows)));
  cv::Mat work = bgr;
  if (scale < 1.0) cv::resize(bgr, work, cv::Size(), scale, scale, cv::INTER_AREA);
  int border = 0;
  const cv::Mat mask = embryo_mask(work, &border);
  const double area = cv::countNonZero(mask);
  r.area_fraction = area / (double(work.cols) * work.rows);
  r.touches_border = border > 0;
  if (r.area_fraction < params.min_area_fraction || r.area_fraction > 0.98) {
    r.flags.push_back("no embryo found");
    cv::resize(bgr, r.image, cv::Size(params.width, params.height), 0, 0, cv::INTER_AREA);
    return r;
  }
  Axis axis = principal_axis(mask);
  axis.centre = (axis.centre + cv::Point2d(0.5, 0.5)) / scale - cv::Point2d(0.5, 0.5);
  axis.length /= scale;
  axis.width /= scale;
  r.found = true;
  r.elongation = axis.length / std::max(1.0, axis.width);
  r.angle_deg = std::atan2(-axis.along.y, axis.along.x) * 180.0 / CV_PI;
  if (r.angle_deg <= -90.0) r.angle_deg += 180.0;
  const double aspect = double(params.width) / params.height;
  const double crop_width = std::max(axis.length * (1 + 2 * params.margin),
                                     axis.width * (1 + 2 * params.margin) * aspect);
  r.crop = cv::RotatedRect(cv::Point2f(float(axis.centre.x), float(axis.centre.y)),
                           cv::Size2f(float(crop_width), float(crop_width / aspect)),
                           float(-r.angle_deg));
  // Fill what lies outside the source with the background's colour.
  const cv::Scalar fill = cv::mean(work, mask == 0);
  r.image = warp_crop(bgr, axis, crop_width, params, fill);
  // A registered image's embryo often grazes the frame; flag only a real cut (> 10 % of it).
  if (border > 0.1 * 2.0 * (work.cols + work.rows)) r.flags.push_back("touches border");
  return r;
}

}  // namespace ishannot
