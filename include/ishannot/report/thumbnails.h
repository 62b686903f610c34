#pragma once
// Thumbnails inlined in the report as PNG data URIs, so index.html and the SVG figures need no
// other file. Images are decoded with OpenCV (image/image.h read_image_bgr) and shrunk with area
// interpolation; a 320x128 BDGP image becomes 96x38 at the default size.
#include <map>
#include <string>

namespace ishannot {

/// Standard base64 (RFC 4648, with padding) of some bytes.
std::string base64_encode(const std::string& bytes);

/// Memoised thumbnails: each file is read and encoded once per report.
class Thumbnails {
 public:
  /// Thumbnails fit in max_width x max_height (aspect kept, never enlarged).
  explicit Thumbnails(int max_width = 96, int max_height = 96)
      : max_width_(max_width), max_height_(max_height) {}

  /// "data:image/png;base64,..." for an image file, or "" when it is missing or unreadable
  /// (counted in failures(); the report says so rather than failing).
  std::string data_uri(const std::string& path);
  int failures() const { return failures_; }

 private:
  int max_width_, max_height_;
  int failures_ = 0;
  std::map<std::string, std::string> cache_;
};

}  // namespace ishannot
