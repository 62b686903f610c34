#pragma once
// Image input and output: reading with validation (PNG and JPEG through libpng and libjpeg, other
// formats through OpenCV's codecs, loaded only when one is met), PNG writing, and the resize policy
// used before a backbone.
// ISH images (BDGP, FlyExpress) are standardised 320x128 RGB, embryo anterior-left, dorsal-up.
#include <cstdint>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace ishannot {

/// The largest image read_image_bgr decodes: 100 megapixels (300 MB as BGR). ISH images are
/// 320x128; a header declaring more is corrupt or not an ISH image, and is refused before any
/// memory is taken for it.
constexpr uint64_t kMaxImagePixels = 100'000'000;

/// Reads an image as 8-bit BGR (3 channels). Grey images are replicated to 3 channels and an
/// alpha channel is dropped. Throws Error naming the file for: missing file, a folder, a symbolic
/// link loop, not a regular file (a device such as /dev/zero, a FIFO, a socket: never opened, as
/// they never end or block), a file over 1 GiB, undecodable or truncated data (PNG without IEND,
/// JPEG without EOI), more than kMaxImagePixels pixels (checked on the PNG/JPEG header before
/// decoding), 2 or more than 4 channels, zero size. Never lets a decoder's own exception through.
cv::Mat read_image_bgr(const std::string& path);

/// How an image reaches the network's input size.
enum class ResizePolicy {
  kSquash,  ///< resize to the input size ignoring aspect ratio (paper: 320x128 -> 224x224)
  kNative,  ///< keep the image's own size (all images of a batch must share it)
};

/// Parses "224x224" (WxH) or "native". Throws Error otherwise.
void parse_input_size(const std::string& text, int* width, int* height, ResizePolicy* policy);

/// How PNGs are compressed. Each is one of OpenCV's imencode settings, reproduced byte for byte.
enum class PngCompression {
  kDefault,      ///< OpenCV's default: the SUB filter, zlib level 1, run-length strategy
  kHuffmanOnly,  ///< Huffman-only deflate: ~40 % faster to encode and as small for photo-like
                 ///< images (heat maps), larger for flat drawings
  kSmallest,     ///< zlib level 9 with libpng's adaptive filters: slow, for small embedded images
};

/// An 8-bit image (grey, BGR or BGRA) as PNG bytes. Throws Error for other types or an empty image.
std::vector<unsigned char> encode_png(const cv::Mat& image,
                                      PngCompression compression = PngCompression::kDefault);

/// Encodes an 8-bit image (grey, BGR or BGRA) as PNG and writes it atomically (temp file +
/// rename); Error naming the file when encoding or writing fails. `fast`: kHuffmanOnly.
void write_png(const std::string& path, const cv::Mat& image, bool fast = false);

/// Writes PNG (or any) bytes atomically; Error naming the file when writing fails.
void write_bytes(const std::string& path, const std::vector<unsigned char>& bytes);

/// Resizes to width x height with area interpolation when shrinking, linear when enlarging.
cv::Mat resize_for_network(const cv::Mat& bgr, int width, int height, ResizePolicy policy);

}  // namespace ishannot
