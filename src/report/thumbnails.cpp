// PNG thumbnails as data URIs (report/thumbnails.h).
#include "ishannot/report/thumbnails.h"

#include <openssl/evp.h>

#include <algorithm>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "ishannot/common/error.h"
#include "ishannot/image/image.h"

namespace ishannot {

std::string base64_encode(const std::string& bytes) {
  // OpenSSL's encoder (Debian libssl, already linked for SHA-256): 4 output bytes per 3 input.
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                     reinterpret_cast<const unsigned char*>(bytes.data()),
                                     static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(length));
  return out;
}

std::string Thumbnails::data_uri(const std::string& path) {
  if (path.empty()) return "";
  const auto cached = cache_.find(path);
  if (cached != cache_.end()) return cached->second;
  std::string uri;
  try {
    const cv::Mat image = read_image_bgr(path);
    const double scale = std::min({1.0, static_cast<double>(max_width_) / image.cols,
                                   static_cast<double>(max_height_) / image.rows});
    cv::Mat small = image;
    if (scale < 1.0)
      cv::resize(image, small,
                 cv::Size(std::max(1, static_cast<int>(image.cols * scale + 0.5)),
                          std::max(1, static_cast<int>(image.rows * scale + 0.5))),
                 0, 0, cv::INTER_AREA);
    const std::vector<unsigned char> png = encode_png(small, PngCompression::kSmallest);
    uri = "data:image/png;base64," + base64_encode(std::string(png.begin(), png.end()));
  } catch (const Error&) {
    ++failures_;
  }
  cache_[path] = uri;
  return uri;
}

}  // namespace ishannot
