#pragma once
// Does an image already look registered like BDGP's images (what every model here learnt from:
// the embryo horizontal, cropped to it, anterior left, dorsal up)? `annotate` runs this check on
// its input images, writes registration.tsv and warns about the images it flags, whose calls then
// rest on a layout the model never saw (docs/STANDARDIZE.md, "The check annotate runs").
//
// An image is flagged for: no embryo found; its long axis more than `max_tilt_deg` from
// horizontal; the embryo covering less than `min_area_fraction` of the image (not cropped); the
// orientation model deciding with at least `min_flip_confidence` that it is mirrored left-right
// (anterior right) or up-down (dorsal down). Less confident decisions are not flagged: on
// bdgp-mini's 193 registered images the model errs mostly with low confidence (at 0.8: 2 false
// AP and 3 false DV flags, while 106 of their left-right mirrors and 96 of their up-down mirrors
// are flagged; docs/STANDARDIZE.md).
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "ishannot/common/progress.h"
#include "ishannot/data/dataset.h"

namespace ishannot {

struct RegistrationCheckParams {
  double max_tilt_deg = 10;          ///< a long axis further from horizontal is "tilted"
  double min_area_fraction = 0.2;    ///< a smaller embryo is "not cropped to the embryo"
  double min_flip_confidence = 0.8;  ///< a flip decided at least this surely is reported
  std::string check() const;         ///< "" when valid, else the problem
};

/// What the check found in one image (the geometry and flips of standardize_image).
struct RegistrationCheck {
  std::string image, path;  ///< id and file
  bool read = false;        ///< the file could be decoded (otherwise nothing else is set)
  bool found = false;       ///< an embryo was found
  double angle_deg = 0, area_fraction = 0;
  double ap_confidence = 0, dv_confidence = 0;    ///< that the decided flip is right (0.5..1)
  bool ap_mirrored = false, dv_mirrored = false;  ///< the decided flips
  std::vector<std::string> concerns;              ///< empty: looks registered
};

/// Checks one BGR image (never throws for its content; Error for invalid params).
RegistrationCheck check_registration(const cv::Mat& bgr,
                                     const RegistrationCheckParams& params = {});

/// Checks every image of `images` that has a readable file (in parallel; progress as "check
/// registration"); an image without a file or that cannot be decoded has read = false.
std::vector<RegistrationCheck> check_registration(const std::vector<ImageRecord>& images,
                                                  const RegistrationCheckParams& params = {},
                                                  const Reporter& reporter = {});

/// registration.tsv: image path read found angle_deg area_fraction ap_mirrored ap_confidence
/// dv_mirrored dv_confidence concerns (concerns joined by "; ", empty = looks registered).
std::string registration_tsv(const std::vector<RegistrationCheck>& checks);

}  // namespace ishannot
