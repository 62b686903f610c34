// PNG through libpng (codecs.h): decoding as OpenCV's PNG decoder does, and encoding with the
// settings of OpenCV's encoder, so that the bytes are OpenCV's (tests/image/test_codecs.cpp).
#include <png.h>
#include <zlib.h>

#include <csetjmp>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <new>

#include "codecs.h"
#include "ishannot/common/error.h"
#include "ishannot/image/image.h"

namespace ishannot {
namespace detail {
namespace {

bool little_endian() {
  const uint16_t one = 1;
  unsigned char first = 0;
  std::memcpy(&first, &one, 1);
  return first == 1;
}

// libpng reports errors through a function that must not return: it jumps back to the setjmp
// of the call in progress (the only functions here that call setjmp hold no C++ objects, so
// nothing is skipped) with the message kept. Warnings are dropped: the library is silent.
struct PngErrors {
  std::jmp_buf jump;
  char message[256] = "";
};

[[noreturn]] void on_error(png_structp png, png_const_charp message) {
  auto* errors = static_cast<PngErrors*>(png_get_error_ptr(png));
  std::snprintf(errors->message, sizeof errors->message, "%s", message);
  std::longjmp(errors->jump, 1);
}

void on_warning(png_structp, png_const_charp) {}

struct MemoryReader {
  const unsigned char* data;
  size_t size;
  size_t at;
};

void read_memory(png_structp png, png_bytep out, size_t n) {
  auto* reader = static_cast<MemoryReader*>(png_get_io_ptr(png));
  if (n > reader->size - reader->at) png_error(png, "the data end inside the image");
  std::memcpy(out, reader->data + reader->at, n);
  reader->at += n;
}

void write_memory(png_structp png, png_bytep data, size_t n) {
  auto* out = static_cast<std::vector<unsigned char>*>(png_get_io_ptr(png));
  bool failed = false;  // no exception crosses libpng's C frames, no jump leaves a handler
  try {
    out->insert(out->end(), data, data + n);
  } catch (const std::bad_alloc&) {
    failed = true;
  }
  if (failed) png_error(png, "out of memory");
}

void flush_nothing(png_structp) {}

// What reader and writer share: libpng's two structures and the error state they report into.
class PngHandles {
 public:
  PngHandles() = default;
  PngHandles(const PngHandles&) = delete;
  PngHandles& operator=(const PngHandles&) = delete;
  bool created() const { return png_ && info_; }
  const char* message() const { return errors_.message; }

 protected:
  PngErrors errors_;
  png_structp png_ = nullptr;
  png_infop info_ = nullptr;
};

class PngReader : public PngHandles {
 public:
  PngReader() {
    png_ = png_create_read_struct(PNG_LIBPNG_VER_STRING, &errors_, on_error, on_warning);
    if (png_) info_ = png_create_info_struct(png_);
  }
  ~PngReader() { png_destroy_read_struct(&png_, info_ ? &info_ : nullptr, nullptr); }

  // Reads the header and sets the transforms: BGR, 8 or 16 bits (*depth), no alpha.
  bool header(MemoryReader* source, uint32_t* width, uint32_t* height, int* depth) {
    if (setjmp(errors_.jump)) return false;
    png_set_read_fn(png_, source, read_memory);
    png_read_info(png_, info_);
    png_set_expand(png_);  // palette -> RGB, grey of 1, 2, 4 bits -> 8, tRNS -> alpha
    png_set_strip_alpha(png_);
    png_set_gray_to_rgb(png_);
    png_set_bgr(png_);
    if (png_get_bit_depth(png_, info_) == 16 && little_endian()) png_set_swap(png_);
    png_set_interlace_handling(png_);
    png_read_update_info(png_, info_);
    *width = png_get_image_width(png_, info_);
    *height = png_get_image_height(png_, info_);
    *depth = png_get_bit_depth(png_, info_);
    if (png_get_channels(png_, info_) != 3) png_error(png_, "unexpected channel count");
    return true;
  }

  bool rows(png_bytepp rows) {
    if (setjmp(errors_.jump)) return false;
    png_read_image(png_, rows);
    png_read_end(png_, nullptr);
    return true;
  }
};

class PngWriter : public PngHandles {
 public:
  PngWriter() {
    png_ = png_create_write_struct(PNG_LIBPNG_VER_STRING, &errors_, on_error, on_warning);
    if (png_) info_ = png_create_info_struct(png_);
  }
  ~PngWriter() { png_destroy_write_struct(&png_, info_ ? &info_ : nullptr); }

  // OpenCV's PngEncoder::write: without a compression level, the SUB filter at zlib level 1;
  // with one, libpng's adaptive filters at that level and the default strategy.
  bool write(std::vector<unsigned char>* out, png_bytepp rows, uint32_t width, uint32_t height,
             int channels, int level, int strategy) {
    if (setjmp(errors_.jump)) return false;
    png_set_write_fn(png_, out, write_memory, flush_nothing);
    if (level >= 0) {
      png_set_compression_level(png_, level);
    } else {
      png_set_filter(png_, PNG_FILTER_TYPE_BASE, PNG_FILTER_SUB);
      png_set_compression_level(png_, 1);
    }
    png_set_compression_strategy(png_, strategy);
    const int type = channels == 1   ? PNG_COLOR_TYPE_GRAY
                     : channels == 3 ? PNG_COLOR_TYPE_RGB
                                     : PNG_COLOR_TYPE_RGB_ALPHA;
    png_set_IHDR(png_, info_, width, height, 8, type, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png_, info_);
    png_set_bgr(png_);
    png_write_image(png_, rows);
    png_write_end(png_, info_);
    return true;
  }
};

}  // namespace

cv::Mat decode_png_bgr(const std::string& path, const std::vector<unsigned char>& bytes) {
  PngReader reader;
  if (!reader.created()) throw file_error(path, "cannot be decoded: libpng could not start");
  MemoryReader source{bytes.data(), bytes.size(), 0};
  uint32_t width = 0, height = 0;
  int depth = 8;
  if (!reader.header(&source, &width, &height, &depth))
    throw file_error(path,
                     std::string("not a decodable image (corrupt PNG: ") + reader.message() + ")");
  if (width == 0 || height == 0) throw file_error(path, "image has zero size");
  cv::Mat image(static_cast<int>(height), static_cast<int>(width),
                depth == 16 ? CV_16UC3 : CV_8UC3);
  std::vector<png_bytep> rows(height);
  for (uint32_t y = 0; y < height; ++y) rows[y] = image.ptr<png_byte>(static_cast<int>(y));
  if (!reader.rows(rows.data()))
    throw file_error(path,
                     std::string("not a decodable image (corrupt PNG: ") + reader.message() + ")");
  if (depth == 16) {
    cv::Mat eight;
    image.convertTo(eight, CV_8U, 1.0 / 257.0);
    return eight;
  }
  return image;
}

}  // namespace detail

std::vector<unsigned char> encode_png(const cv::Mat& image, PngCompression compression) {
  const int channels = image.channels();
  if (image.depth() != CV_8U || (channels != 1 && channels != 3 && channels != 4) || image.empty())
    throw Error("encode_png: expected a non-empty 8-bit image of 1, 3 or 4 channels, got type " +
                std::to_string(image.type()) + " of " + std::to_string(image.cols) + "x" +
                std::to_string(image.rows));
  const int level = compression == PngCompression::kSmallest ? 9 : -1;
  const int strategy = compression == PngCompression::kHuffmanOnly ? Z_HUFFMAN_ONLY
                       : compression == PngCompression::kSmallest  ? Z_DEFAULT_STRATEGY
                                                                   : Z_RLE;
  std::vector<png_bytep> rows(static_cast<size_t>(image.rows));
  for (int y = 0; y < image.rows; ++y)
    rows[static_cast<size_t>(y)] = const_cast<png_bytep>(image.ptr<png_byte>(y));
  std::vector<unsigned char> out;
  detail::PngWriter writer;
  if (!writer.created() ||
      !writer.write(&out, rows.data(), static_cast<uint32_t>(image.cols),
                    static_cast<uint32_t>(image.rows), channels, level, strategy))
    throw Error(std::string("PNG encoding failed: ") + writer.message());
  return out;
}

}  // namespace ishannot
