// Torch-free parts of a network (include/ishannot/infer/network.h): pixel preprocessing, layer
// names, the input batch.
#include "ishannot/infer/network.h"

#include <algorithm>
#include <sstream>

#include "ishannot/common/error.h"

namespace ishannot {

PixelPreprocessing PixelPreprocessing::caffe() {
  return PixelPreprocessing{};
}

PixelPreprocessing PixelPreprocessing::torchvision() {
  PixelPreprocessing p;
  p.name = "torchvision";
  p.rgb = true;
  p.scale = 1.0f / 255.0f;
  p.mean = {0.485f, 0.456f, 0.406f};
  p.stdev = {0.229f, 0.224f, 0.225f};
  return p;
}

int resolve_layer(const std::vector<LayerInfo>& layers, const std::string& arch,
                  const std::string& text) {
  for (size_t i = 0; i < layers.size(); ++i) {
    if (layers[i].name == text ||
        (layers[i].number > 0 && std::to_string(layers[i].number) == text)) {
      return static_cast<int>(i);
    }
  }
  std::ostringstream valid;
  for (size_t i = 0; i < layers.size(); ++i) {
    valid << (i ? ", " : "") << layers[i].name;
    if (layers[i].number > 0) valid << "(" << layers[i].number << ")";
  }
  throw Error("unknown layer '" + text + "' for " + arch + "; valid: " + valid.str());
}

std::vector<int> resolve_layers(const std::vector<LayerInfo>& layers, const std::string& arch,
                                const std::string& list) {
  std::vector<int> out;
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(resolve_layer(layers, arch, item));
  }
  if (out.empty()) throw Error("no layer given (--layers)");
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

namespace {

// One 8-bit BGR image into three float planes in the network's channel order: plane c holds
// source channel (rgb ? 2 - c : c) times scale / stdev[c], minus mean[c] / stdev[c]. One pass
// over the pixels, writing the three planes together.
void to_planes(const cv::Mat& img, const PixelPreprocessing& p, float* out) {
  const int h = img.rows, w = img.cols;
  const int64_t plane = static_cast<int64_t>(h) * w;
  float mul[3], add[3];  // indexed by source (BGR) channel
  float* planes[3];
  for (int c = 0; c < 3; ++c) {
    const int src = p.rgb ? 2 - c : c;
    mul[src] = p.scale / p.stdev[c];
    add[src] = -p.mean[c] / p.stdev[c];
    planes[src] = out + c * plane;
  }
  for (int y = 0; y < h; ++y) {
    const uint8_t* __restrict row = img.ptr<uint8_t>(y);
    float* __restrict d0 = planes[0] + static_cast<int64_t>(y) * w;
    float* __restrict d1 = planes[1] + static_cast<int64_t>(y) * w;
    float* __restrict d2 = planes[2] + static_cast<int64_t>(y) * w;
    for (int x = 0; x < w; ++x) {
      d0[x] = row[3 * x] * mul[0] + add[0];
      d1[x] = row[3 * x + 1] * mul[1] + add[1];
      d2[x] = row[3 * x + 2] * mul[2] + add[2];
    }
  }
}

}  // namespace

FloatArray to_input(const std::vector<cv::Mat>& bgr_images, const PixelPreprocessing& p,
                    FloatArrayPool* pool) {
  if (bgr_images.empty()) throw Error("no image in the batch");
  const int h = bgr_images[0].rows, w = bgr_images[0].cols;
  std::vector<int64_t> shape = {static_cast<int64_t>(bgr_images.size()), 3, h, w};
  FloatArray batch = pool ? pool->take(std::move(shape)) : FloatArray::allocate(std::move(shape));
  const int64_t plane = static_cast<int64_t>(h) * w;
  for (size_t n = 0; n < bgr_images.size(); ++n) {
    const cv::Mat& img = bgr_images[n];
    if (img.rows != h || img.cols != w || img.type() != CV_8UC3) {
      throw Error("images of one batch must share one size and be 8-bit BGR");
    }
    to_planes(img, p, batch.data + static_cast<int64_t>(n) * 3 * plane);
  }
  return batch;
}

}  // namespace ishannot
