// Writing images: PNG, atomically (image.h; the encoder is src/image/png_codec.cpp).
#include <fstream>
#include <vector>

#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/image/image.h"

namespace ishannot {

void write_bytes(const std::string& path, const std::vector<unsigned char>& bytes) {
  write_atomically(path, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) throw file_error(tmp, "cannot open for writing");
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) throw file_error(tmp, "write failed (disk full?)");
  });
}

void write_png(const std::string& path, const cv::Mat& image, bool fast) {
  std::vector<unsigned char> bytes;
  try {
    bytes = encode_png(image, fast ? PngCompression::kHuffmanOnly : PngCompression::kDefault);
  } catch (const Error& e) {
    throw file_error(path, e.what());
  }
  write_bytes(path, bytes);
}

}  // namespace ishannot
