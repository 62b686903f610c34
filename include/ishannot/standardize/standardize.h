#pragma once
// Registration of lab images to BDGP's convention (`ishannot standardize`, docs/STANDARDIZE.md):
// the embryo found against the background, its long axis turned horizontal, cropped with a margin
// and resized to the recipe's size (320x128), then anterior left and dorsal up decided by the
// orientation model (a linear classifier learnt from BDGP-registered images and their mirror
// images, shipped in src/image/orientation_model.inc with its provenance).
//
// Geometry. The mask is every pixel of the blurred image whose colour differs from the
// background's (the median of the four corner patches) by more than max(10, 6 x the corners'
// noise) grey levels, opened, largest component kept, holes filled. Its
// principal axis (PCA of the mask pixels) gives the angle; its extents along the axis and across
// it give the crop: length L x width S around the extents' midpoint, widened by `margin` x L on
// each end and to the output's aspect ratio (width = max(L (1 + 2 margin), S (1 + 2 margin) x
// W/H)). Angles are in degrees, counter-clockwise as seen on screen, in (-90, 90].
//
// Orientation. Features of the standardized image (orientation_features): profiles along the
// axis (darkness, mask, stain per column band) made antisymmetric under a left-right mirror, and
// profiles across it (per row band, and top-minus-bottom per column band) made antisymmetric under
// an up-down mirror and symmetric under a left-right one. A mirror thus negates its decision
// exactly: decision > 0 = as registered; < 0 = mirrored. Confidence = sigmoid(|decision|).
#include <functional>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "ishannot/common/progress.h"
#include "ishannot/data/dataset.h"

namespace ishannot {

struct StandardizeParams {
  int width = 320, height = 128;    ///< output size (the recipe's: BDGP's 320x128)
  double margin = 0.03;             ///< added at each end, as a fraction of the embryo's length
  int work_side = 640;              ///< the mask is found on a copy at most this large
  bool orient = true;               ///< decide the flips (false: only rotate and crop)
  double min_confidence = 0.8;      ///< a flip decided with less confidence is flagged
  double min_area_fraction = 0.02;  ///< a smaller embryo is "not found"
  double min_blur = 20;             ///< variance of the Laplacian below this is flagged as blurred
  std::string check() const;
};

struct StandardizeResult {
  bool found = false;           ///< an embryo was found (otherwise `image` is the plain resize)
  cv::RotatedRect crop;         ///< the crop in source pixels (size = width x height, angle as
                                ///< OpenCV: clockwise degrees on screen, = -angle_deg)
  double angle_deg = 0;         ///< the long axis's angle in the source (see the top)
  double area_fraction = 0;     ///< embryo pixels / image pixels
  bool touches_border = false;  ///< the embryo touches the image border (maybe cut off)
  double elongation = 0;        ///< length / width of the embryo (BDGP embryos: ~2.5)
  double blur = 0;              ///< variance of the Laplacian of the standardized grey image
  bool ap_flipped = false;      ///< mirrored left-right to put anterior left
  bool dv_flipped = false;      ///< mirrored up-down to put dorsal up
  double ap_confidence = 0, dv_confidence = 0;  ///< 0.5..1 (0 when not oriented)
  std::vector<std::string> flags;  ///< QC concerns, e.g. "low AP confidence", "touches border"
  cv::Mat image;                   ///< width x height BGR
};

/// Standardizes one BGR image. Never throws for image content (an empty or uniform image gives
/// found = false with a flag); Error for invalid params.
StandardizeResult standardize_image(const cv::Mat& bgr, const StandardizeParams& params = {});

/// Only the geometry (found, crop, angle, area, border) and the rotated crop, no flips.
StandardizeResult locate_and_crop(const cv::Mat& bgr, const StandardizeParams& params);

// --- orientation ---------------------------------------------------------------------------
struct OrientationFeatures {
  Eigen::VectorXd ap;  ///< antisymmetric under a left-right mirror
  Eigen::VectorXd dv;  ///< antisymmetric under an up-down mirror, symmetric under left-right
};

/// Features of a standardized (horizontal, cropped) BGR image of any size.
OrientationFeatures orientation_features(const cv::Mat& standardized_bgr);

struct OrientationModel {
  Eigen::VectorXd ap, dv;  ///< weights; decision = w . features (no bias: mirror symmetry)
  std::string provenance;  ///< how it was learnt
};

/// The model shipped with the tool (src/image/orientation_model.inc).
const OrientationModel& shipped_orientation_model();

/// Learns both weight vectors with l2 logistic regression (learn/logistic.h) on each registered
/// image's features (label 1) and its mirror image's (the negated features, label 0).
OrientationModel fit_orientation_model(const std::vector<OrientationFeatures>& registered,
                                       double C = 1.0);

/// Leave-one-gene-out accuracy of the flips: per held-out gene, a model learnt on the other genes
/// decides each held-out image as registered and mirrored (both count; by construction a mirror
/// is decided right exactly when the registered image is).
struct OrientationAccuracy {
  std::string gene;  ///< "" = all genes
  int images = 0;
  double ap = 0, dv = 0, both = 0;  ///< fraction of images decided right
};
std::vector<OrientationAccuracy> orientation_logo(
    const std::vector<OrientationFeatures>& registered, const std::vector<std::string>& genes,
    double C = 1.0);

/// The model as C++ source (src/image/orientation_model.inc), with `provenance` as comments.
std::string orientation_model_source(const OrientationModel& model);

// --- a whole dataset -------------------------------------------------------------------------
struct StandardizedImage {
  std::string id, source, output;  ///< output: relative to the output folder ("" = not written)
  std::string problem;             ///< unreadable image (the rest is then empty)
  StandardizeResult result;        ///< without .image
};

/// Standardizes every image of `dataset` into OUT/images/<id>.png and writes OUT/standardize.tsv
/// (one QC row per image, docs/STANDARDIZE.md) and, when every image has a stage range (a
/// manifest or BDGP tables), OUT/images.csv: the same annotations for the standardized files.
/// `keep` receives each standardized image (for a contact sheet). Progress as "standardize".
std::vector<StandardizedImage> standardize_dataset(
    const Dataset& dataset, const std::string& out, const StandardizeParams& params,
    const Reporter& reporter = {},
    const std::function<void(const StandardizedImage&, const cv::Mat&)>& keep = {});

}  // namespace ishannot
