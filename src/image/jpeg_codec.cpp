// JPEG through libjpeg (codecs.h), as OpenCV's JPEG decoder calls it: default (islow) DCT and
// fancy upsampling, 3-component images straight to BGR, 1-component ones as grey.
#include <csetjmp>
#include <cstdio>
// jpeglib.h needs size_t and FILE declared before it.
#include <jpeglib.h>
#include <opencv2/imgproc.hpp>

#include "codecs.h"
#include "ishannot/common/error.h"

namespace ishannot::detail {
namespace {

// libjpeg's error_exit must not return: it jumps back to the setjmp of the call in progress
// (the functions that call setjmp hold no C++ objects) with the message kept. Warnings (e.g.
// "extraneous bytes") are dropped: the library is silent.
struct JpegErrors {
  jpeg_error_mgr manager;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX] = "";
};

[[noreturn]] void on_error(j_common_ptr info) {
  auto* errors = reinterpret_cast<JpegErrors*>(info->err);
  (*info->err->format_message)(info, errors->message);
  std::longjmp(errors->jump, 1);
}

void on_message(j_common_ptr, int) {}
void on_output(j_common_ptr) {}

class JpegReader {
 public:
  JpegReader() {
    info_.err = jpeg_std_error(&errors_.manager);
    errors_.manager.error_exit = on_error;
    errors_.manager.emit_message = on_message;
    errors_.manager.output_message = on_output;
  }
  ~JpegReader() {
    if (created_) jpeg_destroy_decompress(&info_);
  }
  JpegReader(const JpegReader&) = delete;
  JpegReader& operator=(const JpegReader&) = delete;

  const char* message() const { return errors_.message; }

  bool header(const unsigned char* data, size_t size, int* width, int* height, int* components) {
    if (setjmp(errors_.jump)) return false;
    jpeg_create_decompress(&info_);
    created_ = true;
    jpeg_mem_src(&info_, data, static_cast<unsigned long>(size));
    jpeg_read_header(&info_, TRUE);
    *width = static_cast<int>(info_.image_width);
    *height = static_cast<int>(info_.image_height);
    *components = info_.num_components;
    return true;
  }

  // Decodes into rows of `step` bytes from `pixels`: BGR when `colour`, else grey.
  bool pixels(bool colour, unsigned char* pixels, size_t step) {
    if (setjmp(errors_.jump)) return false;
    info_.out_color_space = colour ? JCS_EXT_BGR : JCS_GRAYSCALE;
    info_.out_color_components = colour ? 3 : 1;
    jpeg_start_decompress(&info_);
    while (info_.output_scanline < info_.output_height) {
      JSAMPROW row = pixels + static_cast<size_t>(info_.output_scanline) * step;
      jpeg_read_scanlines(&info_, &row, 1);
    }
    jpeg_finish_decompress(&info_);
    return true;
  }

 private:
  JpegErrors errors_;
  jpeg_decompress_struct info_{};
  bool created_ = false;
};

}  // namespace

cv::Mat decode_jpeg_bgr(const std::string& path, const std::vector<unsigned char>& bytes) {
  JpegReader reader;
  int width = 0, height = 0, components = 0;
  if (!reader.header(bytes.data(), bytes.size(), &width, &height, &components))
    throw file_error(path,
                     std::string("not a decodable image (corrupt JPEG: ") + reader.message() + ")");
  if (components != 1 && components != 3) return {};  // CMYK, YCCK: OpenCV's conversion
  if (width <= 0 || height <= 0) throw file_error(path, "image has zero size");
  cv::Mat image(height, width, components == 3 ? CV_8UC3 : CV_8UC1);
  if (!reader.pixels(components == 3, image.data, image.step))
    throw file_error(path,
                     std::string("not a decodable image (corrupt JPEG: ") + reader.message() + ")");
  if (components == 3) return image;
  cv::Mat bgr;
  cv::cvtColor(image, bgr, cv::COLOR_GRAY2BGR);
  return bgr;
}

}  // namespace ishannot::detail
