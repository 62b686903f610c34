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

/// The image with the evidence drawn over it: the maps upsampled smoothly (bilinear on cell
/// centres) and summed; positive evidence red, negative blue, opacity proportional to |value| /
/// the largest |value| of this image and term (each map is scaled on its own; at most 70 %).
cv::Mat render_evidence_overlay(const cv::Mat& bgr, const std::vector<Eigen::MatrixXd>& maps);

/// One tile of a contact sheet: an image and up to three caption lines under it.
struct SheetTile {
  cv::Mat bgr;
  std::vector<std::string> caption;
};

/// Writes a PNG contact sheet (atomically): a title line, then the tiles scaled to `tile_width`
/// pixels wide in rows of `columns`.
void write_contact_sheet_png(const std::string& path, const std::string& title,
                             const std::vector<SheetTile>& tiles, int columns = 4,
                             int tile_width = 240);

}  // namespace ishannot
