#pragma once
// The interface of libishannot_imgcodecs.so, the module that holds OpenCV's imgcodecs (codecs.h):
// one C entry point, looked up with dlsym. Module and caller come from one build (the ABI number
// is checked), so a cv::Mat passes between them.
#include <cstddef>
#include <opencv2/core.hpp>

namespace ishannot::detail {

constexpr int kImgcodecsModuleAbi = 1;

/// What the module's `ishannot_imgcodecs` returns.
struct ImgcodecsModule {
  int abi = kImgcodecsModuleAbi;
  /// cv::imdecode(data, IMREAD_UNCHANGED | IMREAD_IGNORE_ORIENTATION) into *out (empty when OpenCV
  /// cannot decode it); false with `message` filled when OpenCV throws. Never throws.
  bool (*decode)(const unsigned char* data, size_t size, cv::Mat* out, char* message,
                 size_t message_size) = nullptr;
};

}  // namespace ishannot::detail
