#pragma once
// The image codecs behind image.h, private to src/image/. PNG and JPEG, the formats of BDGP,
// FlyExpress and nearly every lab folder, are decoded and encoded here through libpng and libjpeg
// (what OpenCV's own codecs call, with the same settings: the pixels and bytes are OpenCV's);
// every other format goes to OpenCV's imgcodecs, loaded with dlopen on first need, because that
// library brings GDAL and ~120 libraries more, 0.1-0.2 s of every process's start-up (dlopen alone,
// measured).
#include <cstddef>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace ishannot::detail {

/// PNG bytes (signature checked by the caller) as 8-bit BGR: palettes expanded, grey replicated,
/// alpha dropped, 16-bit samples scaled by 1/257 and rounded, as read_image_bgr does to what
/// OpenCV's imdecode(IMREAD_UNCHANGED) returns. Throws file_error naming `path` on corrupt data.
cv::Mat decode_png_bgr(const std::string& path, const std::vector<unsigned char>& bytes);

/// JPEG bytes as 8-bit BGR (grey replicated), libjpeg's default (islow) DCT and fancy
/// upsampling as OpenCV uses them, EXIF orientation ignored. An empty Mat for JPEGs with other
/// than 1 or 3 components (CMYK, YCCK: OpenCV converts those). Throws file_error on corrupt data.
cv::Mat decode_jpeg_bgr(const std::string& path, const std::vector<unsigned char>& bytes);

/// cv::imdecode(bytes, IMREAD_UNCHANGED | IMREAD_IGNORE_ORIENTATION) through the module
/// libishannot_imgcodecs.so (beside libishannot_image.so; ISHANNOT_IMGCODECS_MODULE names another
/// file), loaded once; empty when OpenCV cannot decode the bytes. Throws file_error naming `path`
/// when the module cannot be loaded or OpenCV throws.
cv::Mat decode_with_opencv(const std::string& path, const std::vector<unsigned char>& bytes);

}  // namespace ishannot::detail
