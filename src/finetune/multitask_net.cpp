#include "ishannot/nets/multitask.h"

#include <torch/torch.h>

#include "ishannot/common/error.h"
#include "ishannot/features/pool_grid.h"

namespace ishannot {

std::string MultiTaskSpec::check() const {
  if (cut.empty()) return "no cut layer given";
  if (freeze_through.empty()) return "no freeze point given (use 'none' to train every stage)";
  try {
    parse_pool_grid(pool);
  } catch (const Error& e) {
    return std::string("head pooling: ") + e.what();
  }
  if (hidden < 1 || hidden > 65536) return "hidden layer size must be in 1..65536";
  if (dropout < 0 || dropout >= 1) return "dropout must be in [0, 1)";
  return "";
}

MultiTaskNet::MultiTaskNet(std::shared_ptr<Backbone> backbone, const MultiTaskSpec& spec,
                           int outputs, int width, int height)
    : backbone_(std::move(backbone)), spec_(spec), outputs_(outputs) {
  if (auto problem = spec.check(); !problem.empty()) throw Error("fine-tuning head: " + problem);
  if (outputs < 1) throw Error("fine-tuning needs at least one term");
  register_module("backbone", backbone_);
  cut_ = backbone_->resolve_layer(spec.cut);
  frozen_through_ =
      spec.freeze_through == "none" ? -1 : backbone_->resolve_layer(spec.freeze_through);
  if (frozen_through_ > cut_) {
    throw Error("--freeze-through " + spec.freeze_through + " lies after the cut layer " +
                spec.cut + " (nothing would be trained but the head: use --freeze-through " +
                spec.cut + ")");
  }
  std::vector<std::vector<int64_t>> shapes;
  try {
    shapes = backbone_->layer_shapes(width, height, cut_);
  } catch (const c10::Error&) {
    throw Error("layer " + spec.cut + " of " + backbone_->arch() + " cannot run at input " +
                std::to_string(width) + "x" + std::to_string(height));
  }
  const auto& shape = shapes[static_cast<size_t>(cut_)];
  pool_ = parse_pool_grid(spec.pool);
  head_input_dim_ = 1;
  if (shape.size() == 3 && pool_.pooled()) {
    head_input_dim_ = shape[0] * pool_.rows * pool_.cols;
  } else {
    for (int64_t d : shape) head_input_dim_ *= d;
  }
  // Which backbone parameters train: stages frozen_through+1..cut. The rest (frozen trunk and the
  // stages after the cut, which the head never uses) are fixed.
  const auto stages = backbone_->named_children();
  for (size_t i = 0; i < backbone_->layers().size(); ++i) {
    const bool trains = static_cast<int>(i) > frozen_through_ && static_cast<int>(i) <= cut_;
    for (auto& p : stages[backbone_->layers()[i].name]->parameters()) p.set_requires_grad(trains);
  }
  hidden_ = register_module("hidden", torch::nn::Linear(head_input_dim_, spec.hidden));
  dropout_ = register_module("dropout", torch::nn::Dropout(spec.dropout));
  output_ = register_module("output", torch::nn::Linear(spec.hidden, outputs));
}

torch::Tensor MultiTaskNet::trunk(const torch::Tensor& input) {
  if (frozen_through_ < 0) return input;
  torch::NoGradGuard no_grad;
  return backbone_->forward_range(input, 0, frozen_through_);
}

torch::Tensor MultiTaskNet::upper(const torch::Tensor& trunk_output) {
  torch::Tensor x = backbone_->forward_range(trunk_output, frozen_through_ + 1, cut_);
  if (x.dim() == 4 && pool_.pooled())
    x = pool_.op == "avg" ? torch::adaptive_avg_pool2d(x, {pool_.rows, pool_.cols})
                          : std::get<0>(torch::adaptive_max_pool2d(x, {pool_.rows, pool_.cols}));
  x = x.flatten(1);
  return output_->forward(dropout_->forward(torch::relu(hidden_->forward(x))));
}

std::vector<torch::Tensor> MultiTaskNet::transferred_parameters() {
  std::vector<torch::Tensor> out;
  for (auto& p : backbone_->parameters())
    if (p.requires_grad()) out.push_back(p);
  return out;
}

std::vector<torch::Tensor> MultiTaskNet::head_parameters() {
  std::vector<torch::Tensor> out;
  for (auto& p : hidden_->parameters()) out.push_back(p);
  for (auto& p : output_->parameters()) out.push_back(p);
  return out;
}

torch::Tensor multitask_loss(const torch::Tensor& logits, const torch::Tensor& targets,
                             const torch::Tensor& pos_weight) {
  TORCH_CHECK(logits.sizes() == targets.sizes(), "logits and targets differ in shape");
  // Per element: -[w y log s(z) + (1 - y) log(1 - s(z))], computed stably by torch.
  torch::Tensor per_element = torch::binary_cross_entropy_with_logits(
      logits, targets, /*weight=*/{}, pos_weight, at::Reduction::None);
  return per_element.sum(1).mean();
}

}  // namespace ishannot
