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

cv::Mat evidence_field(const std::vector<Eigen::MatrixXd>& maps, double bias, int width,
                       int height) {
  cv::Mat sum(height, width, CV_32F, cv::Scalar(bias));
  for (const auto& map : maps) {
    const double cells = static_cast<double>(map.rows() * map.cols());
    cv::Mat grid(static_cast<int>(map.rows()), static_cast<int>(map.cols()), CV_32F);
    for (int r = 0; r < grid.rows; ++r)
      for (int c = 0; c < grid.cols; ++c)
        grid.at<float>(r, c) = static_cast<float>(map(r, c) * cells);
    cv::Mat up;
    cv::resize(grid, up, {width, height}, 0, 0, cv::INTER_LINEAR);
    sum += up;
  }
  return sum;
}

EvidenceColour evidence_colour(double v) {
  const double t = std::min(1.0, std::fabs(v) / kEvidenceLimit);
  EvidenceColour out;
  out.bgr = v > 0 ? cv::Vec3b(0, 0, 255) : cv::Vec3b(255, 64, 0);  // red for, blue against
  out.alpha = static_cast<float>(kEvidenceMaxAlpha * t);
  return out;
}

cv::Mat embryo_mask(const cv::Mat& bgr) {
  cv::Mat grey;
  if (bgr.channels() == 3)
    cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
  else
    grey = bgr.clone();
  cv::GaussianBlur(grey, grey, {5, 5}, 0);
  cv::Mat dark;
  cv::threshold(grey, dark, 0, 255, cv::THRESH_BINARY_INV | cv::THRESH_OTSU);
  const int k = std::max(3, std::min(bgr.cols, bgr.rows) / 40) | 1;
  cv::morphologyEx(dark, dark, cv::MORPH_CLOSE,
                   cv::getStructuringElement(cv::MORPH_ELLIPSE, {k, k}));
  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(dark, labels, stats, centroids, 8, CV_32S);
  int best = 0, best_area = 0;
  for (int i = 1; i < n; ++i) {
    if (stats.at<int>(i, cv::CC_STAT_AREA) > best_area) {
      best = i;
      best_area = stats.at<int>(i, cv::CC_STAT_AREA);
    }
  }
  if (best == 0 || best_area < 0.02 * bgr.rows * bgr.cols)
    return cv::Mat(bgr.rows, bgr.cols, CV_8U, cv::Scalar(255));
  cv::Mat mask = labels == best;
  // Holes: what the outside (flooded from a 1-pixel frame) does not reach.
  cv::Mat outside;
  cv::copyMakeBorder(mask, outside, 1, 1, 1, 1, cv::BORDER_CONSTANT, cv::Scalar(0));
  cv::floodFill(outside, cv::Point(0, 0), cv::Scalar(128));
  const cv::Mat inner = outside(cv::Rect(1, 1, bgr.cols, bgr.rows)) != 128;
  return inner;
}

cv::Mat render_evidence_overlay(const cv::Mat& bgr, const cv::Mat& field, const cv::Mat& mask) {
  if (field.size() != bgr.size() || mask.size() != bgr.size() || bgr.type() != CV_8UC3)
    throw Error("heat map: the image, its evidence field and its mask differ in size or type");
  cv::Mat out = bgr.clone();
  for (int y = 0; y < out.rows; ++y) {
    uchar* line = out.ptr<uchar>(y);
    const float* value = field.ptr<float>(y);
    const uchar* inside = mask.ptr<uchar>(y);
    for (int x = 0; x < out.cols; ++x) {
      if (!inside[x]) continue;
      const EvidenceColour colour = evidence_colour(value[x]);
      for (int c = 0; c < 3; ++c)
        line[3 * x + c] = static_cast<uchar>((1 - colour.alpha) * line[3 * x + c] +
                                             colour.alpha * colour.bgr[c] + 0.5f);
    }
  }
  return out;
}

namespace {

constexpr int kBarHeight = 10;

// The colour bar of the fixed scale at (x, y), `width` pixels wide, over white, with its labels
// below: log-odds -4.6 / 0 / +4.6 and the probabilities they stand for.
void draw_colour_bar(cv::Mat& canvas, int x, int y, int width) {
  for (int i = 0; i < width; ++i) {
    const double v = kEvidenceLimit * (2.0 * (i + 0.5) / width - 1.0);
    const EvidenceColour colour = evidence_colour(v);
    cv::Vec3b pixel;
    for (int c = 0; c < 3; ++c)
      pixel[c] = static_cast<uchar>((1 - colour.alpha) * 255 + colour.alpha * colour.bgr[c] + 0.5f);
    cv::line(canvas, {x + i, y}, {x + i, y + kBarHeight - 1}, pixel);
  }
  cv::rectangle(canvas, {x - 1, y - 1}, {x + width, y + kBarHeight}, {128, 128, 128});
  const auto label = [&](const std::string& text, int at, int align) {
    int base = 0;
    const cv::Size size = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, 0.33, 1, &base);
    const int left = align < 0 ? at : align > 0 ? at - size.width : at - size.width / 2;
    cv::putText(canvas, text, {left, y + kBarHeight + 11}, cv::FONT_HERSHEY_SIMPLEX, 0.33,
                {0, 0, 0}, 1, cv::LINE_AA);
  };
  label("-4.6 (p .01) against", x, -1);
  label("0 (p .5)", x + width / 2, 0);
  label("for +4.6 (p .99)", x + width, 1);
}

}  // namespace

cv::Mat heatmap_figure(const cv::Mat& overlay, const std::vector<std::string>& caption) {
  const int width = std::max(overlay.cols, 300), line_h = 14;
  const int strip = 6 + line_h * static_cast<int>(caption.size()) + kBarHeight + 18;
  cv::Mat figure(overlay.rows + strip, width, CV_8UC3, cv::Scalar(255, 255, 255));
  overlay.copyTo(figure(cv::Rect(0, 0, overlay.cols, overlay.rows)));
  int y = overlay.rows + 4 + line_h - 3;
  for (const auto& line : caption) {
    cv::putText(figure, line, {4, y}, cv::FONT_HERSHEY_SIMPLEX, 0.4, {0, 0, 0}, 1, cv::LINE_AA);
    y += line_h;
  }
  draw_colour_bar(figure, 6, y - line_h + 6, std::min(width - 12, 360));
  return figure;
}

void write_contact_sheet_png(const std::string& path, const std::string& title,
                             const std::vector<SheetTile>& tiles, int columns, int tile_width) {
  columns = std::max(1, std::min(columns, static_cast<int>(std::max<size_t>(1, tiles.size()))));
  int tile_height = 1;
  for (const auto& t : tiles)
    tile_height = std::max(tile_height, t.bgr.rows * tile_width / std::max(1, t.bgr.cols));
  const int caption_h = 42, title_h = 50, pad = 6;
  const int rows = static_cast<int>((tiles.size() + static_cast<size_t>(columns) - 1) /
                                    static_cast<size_t>(columns));
  cv::Mat sheet(title_h + std::max(1, rows) * (tile_height + caption_h) + pad,
                pad + columns * (tile_width + pad), CV_8UC3, cv::Scalar(255, 255, 255));
  cv::putText(sheet, title, {pad, 18}, cv::FONT_HERSHEY_SIMPLEX, 0.55, {0, 0, 0}, 1, cv::LINE_AA);
  draw_colour_bar(sheet, pad, 22, std::min(sheet.cols - 2 * pad, 360));
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
