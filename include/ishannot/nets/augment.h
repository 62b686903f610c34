#pragma once
// Training-time augmentation that respects ISH geometry. BDGP/FlyExpress images are standardised:
// the embryo is centred, anterior left, dorsal up, on a light background. So the geometric part
// is limited to small shifts and zooms (a flip would swap anterior and posterior, which a term
// like "anterior endoderm anlage" depends on: flips are off by default), and the photometric part
// imitates what varies between ISH experiments: exposure (brightness/contrast) and the density and
// hue of the stain.
//
// Stain jitter: the stain absorbs light, so the "stain density" of channel c is 255 - value.
// Each channel's density is multiplied by its own factor in [1 - stain, 1 + stain]: the stain
// gets darker or lighter and its hue shifts, while the white background stays white.
#include <array>
#include <cstdint>
#include <opencv2/core.hpp>
#include <string>

namespace ishannot {

struct AugmentParams {
  bool enabled = true;
  double shift = 0.05;       ///< max translation, as a fraction of the width and of the height
  double scale = 0.05;       ///< max relative zoom about the centre: factor in [1-scale, 1+scale]
  double brightness = 0.08;  ///< max additive change, as a fraction of 255
  double contrast = 0.1;     ///< max relative contrast change about mid-grey (128)
  double stain = 0.15;       ///< max relative change of each channel's stain density
  bool flip_horizontal = false;  ///< swaps anterior and posterior: off for ISH
  bool flip_vertical = false;    ///< swaps dorsal and ventral: off for ISH
  /// "" when valid, else what is wrong.
  std::string check() const;
};

/// One random draw of the transformation (identity when augmentation is disabled).
struct AugmentDraw {
  double dx = 0, dy = 0;  ///< shift, fraction of width / height
  double zoom = 1;
  double brightness = 0;  ///< added, in units of 255
  double contrast = 1;
  std::array<double, 3> stain = {1, 1, 1};  ///< density factor per channel (B, G, R)
  bool flip_horizontal = false, flip_vertical = false;
  bool is_identity() const;
};

/// The draw for one image in one epoch: a pure function of (params, seed, index), so that a
/// resumed run sees exactly the draws of an uninterrupted one.
AugmentDraw draw_augmentation(const AugmentParams& params, uint64_t seed, uint64_t index);

/// Applies a draw to an 8-bit BGR image (same size out; borders replicate the edge pixels, which
/// is the light background of a standardised ISH image).
cv::Mat apply_augmentation(const cv::Mat& bgr, const AugmentDraw& draw);

}  // namespace ishannot
