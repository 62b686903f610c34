// Writing images: PNG, atomically (image.h).
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <vector>

#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/image/image.h"

namespace ishannot {

void write_png(const std::string& path, const cv::Mat& image, bool fast) {
  std::vector<uchar> bytes;
  std::vector<int> params;
  if (fast) params = {cv::IMWRITE_PNG_STRATEGY, cv::IMWRITE_PNG_STRATEGY_HUFFMAN_ONLY};
  if (!cv::imencode(".png", image, bytes, params)) throw file_error(path, "PNG encoding failed");
  write_atomically(path, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) throw file_error(tmp, "cannot open for writing");
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) throw file_error(tmp, "write failed (disk full?)");
  });
}

}  // namespace ishannot
