// Evidence maps drawn on images and contact sheets (heatmap.h).
#include "ishannot/annotate/heatmap.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "ishannot/common/error.h"
#include "ishannot/image/image.h"

namespace ishannot {

cv::Mat evidence_density(const std::vector<Eigen::MatrixXd>& maps, int width, int height) {
  cv::Mat out(height, width, CV_64F, cv::Scalar(0));
  for (const auto& map : maps) {
    const auto rows = static_cast<int>(map.rows()), cols = static_cast<int>(map.cols());
    std::vector<int> row_of(static_cast<size_t>(height)), col_of(static_cast<size_t>(width));
    for (int y = 0; y < height; ++y) row_of[static_cast<size_t>(y)] = y * rows / height;
    for (int x = 0; x < width; ++x) col_of[static_cast<size_t>(x)] = x * cols / width;
    Eigen::MatrixXd pixels = Eigen::MatrixXd::Zero(rows, cols);
    for (int y = 0; y < height; ++y)
      for (int x = 0; x < width; ++x)
        pixels(row_of[static_cast<size_t>(y)], col_of[static_cast<size_t>(x)]) += 1;
    for (int y = 0; y < height; ++y) {
      double* line = out.ptr<double>(y);
      for (int x = 0; x < width; ++x) {
        const int r = row_of[static_cast<size_t>(y)], c = col_of[static_cast<size_t>(x)];
        if (pixels(r, c) > 0) line[x] += map(r, c) / pixels(r, c);
      }
    }
  }
  return out;
}

cv::Mat render_evidence_overlay(const cv::Mat& bgr, const std::vector<Eigen::MatrixXd>& maps) {
  cv::Mat sum(bgr.rows, bgr.cols, CV_32F, cv::Scalar(0));
  for (const auto& map : maps) {
    cv::Mat cells(static_cast<int>(map.rows()), static_cast<int>(map.cols()), CV_32F);
    for (int r = 0; r < cells.rows; ++r)
      for (int c = 0; c < cells.cols; ++c) cells.at<float>(r, c) = static_cast<float>(map(r, c));
    cv::Mat up;
    cv::resize(cells, up, bgr.size(), 0, 0, cv::INTER_LINEAR);
    sum += up;
  }
  double lo = 0, hi = 0;
  cv::minMaxLoc(sum, &lo, &hi);
  const float scale = static_cast<float>(std::max(std::fabs(lo), std::fabs(hi)));
  cv::Mat out = bgr.clone();
  if (!(scale > 0)) return out;
  const float positive[3] = {0, 0, 255}, negative[3] = {255, 64, 0};  // BGR: red, blue
  for (int y = 0; y < out.rows; ++y) {
    uchar* line = out.ptr<uchar>(y);
    const float* value = sum.ptr<float>(y);
    for (int x = 0; x < out.cols; ++x) {
      const float v = value[x] / scale;
      const float alpha = 0.7f * std::min(1.0f, std::fabs(v));
      const float* colour = v > 0 ? positive : negative;
      for (int c = 0; c < 3; ++c)
        line[3 * x + c] =
            static_cast<uchar>((1 - alpha) * line[3 * x + c] + alpha * colour[c] + 0.5f);
    }
  }
  return out;
}

void write_contact_sheet_png(const std::string& path, const std::string& title,
                             const std::vector<SheetTile>& tiles, int columns, int tile_width) {
  columns = std::max(1, std::min(columns, static_cast<int>(std::max<size_t>(1, tiles.size()))));
  int tile_height = 1;
  for (const auto& t : tiles)
    tile_height = std::max(tile_height, t.bgr.rows * tile_width / std::max(1, t.bgr.cols));
  const int caption_h = 42, title_h = 28, pad = 6;
  const int rows = static_cast<int>((tiles.size() + static_cast<size_t>(columns) - 1) /
                                    static_cast<size_t>(columns));
  cv::Mat sheet(title_h + std::max(1, rows) * (tile_height + caption_h) + pad,
                pad + columns * (tile_width + pad), CV_8UC3, cv::Scalar(255, 255, 255));
  cv::putText(sheet, title, {pad, 20}, cv::FONT_HERSHEY_SIMPLEX, 0.55, {0, 0, 0}, 1, cv::LINE_AA);
  for (size_t i = 0; i < tiles.size(); ++i) {
    const int r = static_cast<int>(i) / columns, c = static_cast<int>(i) % columns;
    const int x = pad + c * (tile_width + pad), y = title_h + r * (tile_height + caption_h);
    cv::Mat small;
    const int h = std::max(1, tiles[i].bgr.rows * tile_width / std::max(1, tiles[i].bgr.cols));
    cv::resize(tiles[i].bgr, small, {tile_width, h}, 0, 0, cv::INTER_AREA);
    small.copyTo(sheet(cv::Rect(x, y, tile_width, h)));
    int line_y = y + h + 12;
    for (const auto& line : tiles[i].caption) {
      cv::putText(sheet, line.substr(0, 40), {x + 2, line_y}, cv::FONT_HERSHEY_SIMPLEX, 0.36,
                  {0, 0, 0}, 1, cv::LINE_AA);
      line_y += 13;
    }
  }
  write_png(path, sheet);
}

}  // namespace ishannot
