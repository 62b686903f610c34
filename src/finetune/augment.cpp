#include "ishannot/nets/augment.h"

#include <opencv2/imgproc.hpp>

#include "detail/rng.h"

namespace ishannot {

std::string AugmentParams::check() const {
  if (shift < 0 || shift > 0.5) return "shift must be in [0, 0.5]";
  if (scale < 0 || scale > 0.5) return "scale must be in [0, 0.5]";
  if (brightness < 0 || brightness > 1) return "brightness must be in [0, 1]";
  if (contrast < 0 || contrast > 0.9) return "contrast must be in [0, 0.9]";
  if (stain < 0 || stain > 0.9) return "stain must be in [0, 0.9]";
  return "";
}

bool AugmentDraw::is_identity() const {
  return dx == 0 && dy == 0 && zoom == 1 && brightness == 0 && contrast == 1 && stain[0] == 1 &&
         stain[1] == 1 && stain[2] == 1 && !flip_horizontal && !flip_vertical;
}

AugmentDraw draw_augmentation(const AugmentParams& p, uint64_t seed, uint64_t index) {
  AugmentDraw d;
  if (!p.enabled) return d;
  detail::Rng rng = detail::Rng::from_derived(seed, {index});
  // Every field is drawn, used or not, so one option does not shift the others' draws.
  d.dx = rng.uniform(-p.shift, p.shift);
  d.dy = rng.uniform(-p.shift, p.shift);
  d.zoom = 1 + rng.uniform(-p.scale, p.scale);
  d.brightness = rng.uniform(-p.brightness, p.brightness);
  d.contrast = 1 + rng.uniform(-p.contrast, p.contrast);
  for (double& s : d.stain) s = 1 + rng.uniform(-p.stain, p.stain);
  const bool fh = rng.bernoulli(0.5), fv = rng.bernoulli(0.5);
  d.flip_horizontal = p.flip_horizontal && fh;
  d.flip_vertical = p.flip_vertical && fv;
  return d;
}

cv::Mat apply_augmentation(const cv::Mat& bgr, const AugmentDraw& d) {
  CV_Assert(bgr.type() == CV_8UC3);
  if (d.is_identity()) return bgr.clone();
  const double w = bgr.cols, h = bgr.rows;
  cv::Mat geometric;  // a fresh buffer: warpAffine must not write into the caller's image
  if (d.dx != 0 || d.dy != 0 || d.zoom != 1 || d.flip_horizontal || d.flip_vertical) {
    // Output pixel x maps from source x: zoom about the centre, then shift, then flips.
    const double cx = (w - 1) / 2, cy = (h - 1) / 2;
    const double sx = d.flip_horizontal ? -d.zoom : d.zoom;
    const double sy = d.flip_vertical ? -d.zoom : d.zoom;
    cv::Mat m = (cv::Mat_<double>(2, 3) << sx, 0, cx - sx * cx + d.dx * w,  //
                 0, sy, cy - sy * cy + d.dy * h);
    cv::warpAffine(bgr, geometric, m, bgr.size(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  } else {
    geometric = bgr;  // only read below
  }
  // Photometric part in one pass: stain density per channel, then contrast and brightness.
  cv::Mat out(bgr.size(), CV_8UC3);
  for (int y = 0; y < bgr.rows; ++y) {
    const uint8_t* src = geometric.ptr<uint8_t>(y);
    uint8_t* dst = out.ptr<uint8_t>(y);
    for (int x = 0; x < bgr.cols * 3; ++x) {
      double v = 255.0 - (255.0 - src[x]) * d.stain[static_cast<size_t>(x % 3)];
      v = (v - 128.0) * d.contrast + 128.0 + d.brightness * 255.0;
      dst[x] = cv::saturate_cast<uint8_t>(v);
    }
  }
  return out;
}

}  // namespace ishannot
