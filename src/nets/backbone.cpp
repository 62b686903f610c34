#include "ishannot/nets/backbone.h"

#include <torch/torch.h>

#include <algorithm>
#include <sstream>

#include "ishannot/common/error.h"
#include "nets/stages.h"

namespace ishannot {

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
  return ishannot::resolve_layer(layers_, arch_, text);
}

std::vector<int> Backbone::resolve_layers(const std::string& list) const {
  return ishannot::resolve_layers(layers_, arch_, list);
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

torch::Tensor Backbone::to_input(const std::vector<cv::Mat>& bgr_images) const {
  TORCH_CHECK(!bgr_images.empty());
  return detail::tensor_view(ishannot::to_input(bgr_images, preprocessing_));
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
