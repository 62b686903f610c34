// libishannot_imgcodecs.so: OpenCV's imgcodecs behind one C entry point (opencv_codecs_module.h),
// loaded by src/image/opencv_codecs.cpp only for formats other than PNG and JPEG.
#include <cstdio>
#include <opencv2/imgcodecs.hpp>

#include "opencv_codecs_module.h"

namespace {

bool decode(const unsigned char* data, size_t size, cv::Mat* out, char* message,
            size_t message_size) {
  try {
    const cv::Mat bytes(1, static_cast<int>(size), CV_8U, const_cast<unsigned char*>(data));
    *out = cv::imdecode(bytes, cv::IMREAD_UNCHANGED | cv::IMREAD_IGNORE_ORIENTATION);
    return true;
  } catch (const cv::Exception& e) {  // e.g. OpenCV's own size limit in other formats
    std::snprintf(message, message_size, "%s", e.err.c_str());
  } catch (const std::exception& e) {
    std::snprintf(message, message_size, "%s", e.what());
  }
  return false;
}

}  // namespace

extern "C" __attribute__((visibility("default"))) const ishannot::detail::ImgcodecsModule*
ishannot_imgcodecs() {
  static const ishannot::detail::ImgcodecsModule module{ishannot::detail::kImgcodecsModuleAbi,
                                                        decode};
  return &module;
}
