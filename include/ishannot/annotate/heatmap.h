#pragma once
// Heat maps of evidence (annotator.h contributions) on images, and contact sheets.
// The network saw the whole image (resized to its input size), so a layer's rows x cols grid
// covers the whole image: cell (r, c) is the image region [c W / cols, (c+1) W / cols) x
// [r H / rows, (r+1) H / rows).
#include <Eigen/Dense>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace ishannot {

/// The evidence per pixel (width x height, CV_64F): every layer's cell value spread evenly over
/// the pixels of its cell, layers summed. Its total is exactly the maps' total.
cv::Mat evidence_density(const std::vector<Eigen::MatrixXd>& maps, int width, int height);

/// The fixed colour scale of every heat map, the same for every image and term (so a 0.50 call
/// does not look like a 0.99 one): a pixel's value v is the evidence in whole-image log-odds
/// units (evidence_field); the colour saturates at |v| = kEvidenceLimit = logit(0.99) = 4.595
/// (red for, blue against the term), is transparent at v = 0 (probability 0.5) and its opacity
/// grows linearly in between, at most kEvidenceMaxAlpha.
constexpr double kEvidenceLimit = 4.595119850134589;
constexpr double kEvidenceMaxAlpha = 0.75;

/// The evidence field v (width x height, CV_32F) of one term on one image: each layer's cell
/// contributions (annotator.h, log-odds) times that layer's number of cells, upsampled smoothly
/// (bilinear on cell centres), summed over layers, plus `bias` (the term's mean member bias).
/// v at a pixel is the mean decision the image would get if every cell looked like the cells
/// there; its mean over the image is (up to the smoothing) the mean decision itself.
cv::Mat evidence_field(const std::vector<Eigen::MatrixXd>& maps, double bias, int width,
                       int height);

/// The colour (BGR) and opacity of evidence v on the fixed scale.
struct EvidenceColour {
  cv::Vec3b bgr;
  float alpha = 0;
};
EvidenceColour evidence_colour(double v);

/// The embryo of a brightfield ISH image (BDGP: a darker embryo on a light background), as a
/// CV_8U mask (255 = embryo): Otsu's threshold on the smoothed grey image, closed, the largest
/// connected region with its holes filled. When that region covers under 2 % of the image (no
/// light background to tell it from), the whole image.
cv::Mat embryo_mask(const cv::Mat& bgr);

/// The image with the evidence field painted over it on the fixed scale, inside `mask` only
/// (CV_8U, the image's size; pixels where it is 0 are left exactly as they are).
cv::Mat render_evidence_overlay(const cv::Mat& bgr, const cv::Mat& field, const cv::Mat& mask);

/// A heat-map figure: `overlay` above a white strip with the caption lines (term, score ...)
/// and the colour bar of the fixed scale, labelled in log-odds and probability.
cv::Mat heatmap_figure(const cv::Mat& overlay, const std::vector<std::string>& caption);

/// One tile of a contact sheet: an image and up to three caption lines under it.
struct SheetTile {
  cv::Mat bgr;
  std::vector<std::string> caption;
};

/// Writes a PNG contact sheet (atomically): a title line with the colour bar of the fixed
/// scale, then the tiles scaled to `tile_width` pixels wide in rows of `columns`.
void write_contact_sheet_png(const std::string& path, const std::string& title,
                             const std::vector<SheetTile>& tiles, int columns = 4,
                             int tile_width = 240);

}  // namespace ishannot
