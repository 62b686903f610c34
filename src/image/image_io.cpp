#include <filesystem>
#include <fstream>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "codecs.h"
#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/image/image.h"

namespace ishannot {
namespace {

// The largest image file read: 1 GiB. Only regular files are read (never a device such as
// /dev/zero, a FIFO or a socket, which never end or block), so a hostile path in a manifest or
// a run's TSV cannot make a reader hang or grow without bound.
constexpr uint64_t kMaxImageFileBytes = uint64_t{1} << 30;

std::vector<unsigned char> read_bytes(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw file_error(path, "is a folder, not an image file");
  // Only regular files, checked before opening (opening a FIFO blocks), of a bounded size.
  const auto status = std::filesystem::status(path, ec);
  if (!ec && std::filesystem::exists(status) && !std::filesystem::is_regular_file(status))
    throw file_error(path, "not a regular file (a device, FIFO or socket): not read as an image");
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > kMaxImageFileBytes)
    throw file_error(path, "is " + std::to_string(size) +
                               " bytes, more than an image file may be (" +
                               std::to_string(kMaxImageFileBytes) + ")");
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const std::string why = describe_unreadable(path);
    throw file_error(path, why == "no such file" ? "no such image file" : why);
  }
  return std::vector<unsigned char>(std::istreambuf_iterator<char>(in), {});
}

uint32_t big_endian(const std::vector<unsigned char>& b, size_t at, int bytes) {
  uint32_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | b[at + static_cast<size_t>(i)];
  return v;
}

// The formats by their first bytes (PNG's signature, JPEG's start-of-image and first marker): one
// rule for the size check, the truncation check and the choice of decoder.
bool is_png(const std::vector<unsigned char>& b) {
  return b.size() >= 8 && b[0] == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G';
}
bool is_jpeg(const std::vector<unsigned char>& b) {
  return b.size() >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF;
}

// The size a PNG (IHDR) or JPEG (first start-of-frame marker) header declares, without decoding;
// false for other formats or when the header is not found.
bool declared_size(const std::vector<unsigned char>& b, uint64_t* width, uint64_t* height) {
  if (is_png(b) && b.size() >= 24 && b[12] == 'I' && b[13] == 'H' && b[14] == 'D' && b[15] == 'R') {
    *width = big_endian(b, 16, 4);
    *height = big_endian(b, 20, 4);
    return true;
  }
  if (!is_jpeg(b)) return false;
  size_t at = 2;
  while (at + 9 < b.size()) {
    if (b[at] != 0xFF) return false;
    const unsigned char marker = b[at + 1];
    if (marker == 0xFF) {  // fill byte
      ++at;
      continue;
    }
    const bool frame =
        marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (frame) {
      *height = big_endian(b, at + 5, 2);
      *width = big_endian(b, at + 7, 2);
      return true;
    }
    at += 2 + big_endian(b, at + 2, 2);
  }
  return false;
}

void check_pixel_limit(const std::string& path, uint64_t width, uint64_t height) {
  if (width * height > kMaxImagePixels)
    throw file_error(path, "declares " + std::to_string(width) + "x" + std::to_string(height) +
                               " pixels, above the limit of " + std::to_string(kMaxImagePixels) +
                               " pixels per image (corrupt, or not an ISH image)");
}

bool has_suffix(const std::vector<unsigned char>& b, const std::vector<unsigned char>& tail) {
  return b.size() >= tail.size() && std::equal(tail.begin(), tail.end(), b.end() - tail.size());
}

// OpenCV decodes a truncated JPEG (libjpeg pads it grey with a warning) and some truncated
// PNGs without failing, so check the end markers ourselves.
void check_not_truncated(const std::string& path, const std::vector<unsigned char>& b) {
  if (is_png(b)) {
    // IEND chunk: length 0, "IEND", CRC AE 42 60 82.
    if (!has_suffix(b, {'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82})) {
      throw file_error(path, "truncated PNG (no IEND chunk)");
    }
  } else if (is_jpeg(b)) {
    size_t end = b.size();
    while (end > 0 && (b[end - 1] == 0x00 || b[end - 1] == 0x0A)) --end;  // tolerate padding
    if (end < 2 || b[end - 2] != 0xFF || b[end - 1] != 0xD9) {
      throw file_error(path, "truncated JPEG (no end-of-image marker)");
    }
  }
}

}  // namespace

cv::Mat read_image_bgr(const std::string& path) {
  const std::vector<unsigned char> bytes = read_bytes(path);
  if (bytes.empty()) throw file_error(path, "empty image file");
  check_not_truncated(path, bytes);
  uint64_t width = 0, height = 0;
  if (declared_size(bytes, &width, &height)) check_pixel_limit(path, width, height);
  cv::Mat raw;
  if (is_png(bytes))
    raw = detail::decode_png_bgr(path, bytes);
  else if (is_jpeg(bytes))
    raw = detail::decode_jpeg_bgr(path, bytes);
  if (raw.empty()) raw = detail::decode_with_opencv(path, bytes);  // other formats, CMYK JPEG
  if (raw.empty()) throw file_error(path, "not a decodable image (corrupt or unknown format)");
  check_pixel_limit(path, static_cast<uint64_t>(raw.cols), static_cast<uint64_t>(raw.rows));
  if (raw.rows == 0 || raw.cols == 0) throw file_error(path, "image has zero size");
  if (raw.depth() != CV_8U) {
    cv::Mat eight;
    const double scale = raw.depth() == CV_16U ? 1.0 / 257.0 : 1.0;
    raw.convertTo(eight, CV_8U, scale);
    raw = eight;
  }
  cv::Mat bgr;
  switch (raw.channels()) {
    case 1:
      cv::cvtColor(raw, bgr, cv::COLOR_GRAY2BGR);
      break;
    case 3:
      bgr = raw;
      break;
    case 4:
      cv::cvtColor(raw, bgr, cv::COLOR_BGRA2BGR);
      break;
    default:
      throw file_error(path, "has " + std::to_string(raw.channels()) +
                                 " channels; expected 1 (grey), 3 (colour) or 4 (with alpha)");
  }
  return bgr;
}

void parse_input_size(const std::string& text, int* width, int* height, ResizePolicy* policy) {
  if (text == "native") {
    *policy = ResizePolicy::kNative;
    *width = *height = 0;
    return;
  }
  int w = 0, h = 0;
  char x = 0, extra = 0;
  if (std::sscanf(text.c_str(), "%d%c%d%c", &w, &x, &h, &extra) != 3 || (x != 'x' && x != 'X') ||
      w < 32 || h < 32 || w > 4096 || h > 4096) {
    throw Error("--input-size '" + text + "': expected WIDTHxHEIGHT (32..4096) or 'native'");
  }
  *policy = ResizePolicy::kSquash;
  *width = w;
  *height = h;
}

cv::Mat resize_for_network(const cv::Mat& bgr, int width, int height, ResizePolicy policy) {
  if (policy == ResizePolicy::kNative || (bgr.cols == width && bgr.rows == height)) return bgr;
  cv::Mat out;
  const bool shrinking = width * height < bgr.cols * bgr.rows;
  cv::resize(bgr, out, cv::Size(width, height), 0, 0,
             shrinking ? cv::INTER_AREA : cv::INTER_LINEAR);
  return out;
}

}  // namespace ishannot
