#include "ishannot/nets/backbone.h"

#include <torch/torch.h>

#include <algorithm>
#include <sstream>

#include "ishannot/common/error.h"
#include "nets/stages.h"

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

Backbone::Backbone(std::string arch, PixelPreprocessing preprocessing)
    : arch_(std::move(arch)), preprocessing_(std::move(preprocessing)) {}

void Backbone::add_stage(const std::string& name, int number, std::shared_ptr<Stage> stage) {
  layers_.push_back({name, number});
  stages_.push_back(register_module(name, std::move(stage)));
}

void Backbone::set_provenance(const RawWeights& weights) {
  weights_path_ = weights.path;
  weights_sha256_ = weights.sha256;
}

int Backbone::resolve_layer(const std::string& text) const {
  for (size_t i = 0; i < layers_.size(); ++i) {
    if (layers_[i].name == text ||
        (layers_[i].number > 0 && std::to_string(layers_[i].number) == text)) {
      return static_cast<int>(i);
    }
  }
  std::ostringstream valid;
  for (size_t i = 0; i < layers_.size(); ++i) {
    valid << (i ? ", " : "") << layers_[i].name;
    if (layers_[i].number > 0) valid << "(" << layers_[i].number << ")";
  }
  throw Error("unknown layer '" + text + "' for " + arch_ + "; valid: " + valid.str());
}

std::vector<int> Backbone::resolve_layers(const std::string& list) const {
  std::vector<int> out;
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(resolve_layer(item));
  }
  if (out.empty()) throw Error("no layer given (--layers)");
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

torch::Tensor Backbone::forward_range(const torch::Tensor& input, int first, int last) {
  TORCH_CHECK(first >= 0 && last < static_cast<int>(stages_.size()) && first <= last + 1);
  torch::Tensor x = input;
  for (int i = first; i <= last; ++i) x = stages_[i]->forward(x);
  return x;
}

void Backbone::use_channels_last(bool on) {
  channels_last_ = on;
  torch::NoGradGuard no_grad;
  const auto format = on ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous;
  for (auto& p : parameters()) {
    if (p.dim() == 4) p.set_data(p.contiguous(format));
  }
}

std::map<int, torch::Tensor> Backbone::forward_taps(const torch::Tensor& input,
                                                    const std::vector<int>& taps) {
  std::map<int, torch::Tensor> out;
  if (taps.empty()) return out;
  const int last = *std::max_element(taps.begin(), taps.end());
  TORCH_CHECK(last < static_cast<int>(stages_.size()));
  torch::Tensor x = channels_last_ && input.dim() == 4
                        ? input.contiguous(torch::MemoryFormat::ChannelsLast)
                        : input;
  bool x_is_tap = true;  // the caller's input must not be modified either
  for (int i = 0; i <= last; ++i) {
    // A ReLU after a stage nobody taps can overwrite that stage's output (saves a pass over
    // memory); not while autograd records (fine-tuning).
    if (!x_is_tap && !torch::GradMode::is_enabled() &&
        dynamic_cast<detail::ReluStage*>(stages_[i].get())) {
      x = torch::relu_(x);
    } else {
      x = stages_[i]->forward(x);
    }
    x_is_tap = std::find(taps.begin(), taps.end(), i) != taps.end();
    if (x_is_tap) out[i] = x;
  }
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

torch::Tensor Backbone::to_input(const std::vector<cv::Mat>& bgr_images) const {
  TORCH_CHECK(!bgr_images.empty());
  const int h = bgr_images[0].rows, w = bgr_images[0].cols;
  torch::Tensor batch = torch::empty({static_cast<int64_t>(bgr_images.size()), 3, h, w});
  float* dst = batch.data_ptr<float>();
  const int64_t plane = static_cast<int64_t>(h) * w;
  for (size_t n = 0; n < bgr_images.size(); ++n) {
    const cv::Mat& img = bgr_images[n];
    if (img.rows != h || img.cols != w || img.type() != CV_8UC3) {
      throw Error("images of one batch must share one size and be 8-bit BGR");
    }
    to_planes(img, preprocessing_, dst + static_cast<int64_t>(n) * 3 * plane);
  }
  return batch;
}

std::vector<std::vector<int64_t>> Backbone::layer_shapes(int width, int height, int last) {
  torch::NoGradGuard no_grad;
  std::vector<std::vector<int64_t>> shapes;
  torch::Tensor x = torch::zeros({1, 3, height, width});
  for (int i = 0; i <= last; ++i) {
    x = stages_[i]->forward(x);
    std::vector<int64_t> s(x.sizes().begin() + 1, x.sizes().end());
    shapes.push_back(s);
  }
  return shapes;
}

}  // namespace ishannot
