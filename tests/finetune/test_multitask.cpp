// The multi-task network and its loss against independent references: the loss against the
// cross-entropy written out by hand, autograd's gradients of loss + head + transferred stages
// against central finite differences (double precision), and the frozen/trainable split.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "ishannot/common/error.h"
#include "ishannot/nets/multitask.h"
#include "support/tiny_backbone.h"

using namespace ishannot;

TEST(MultiTaskLoss, EqualsHandWrittenSummedCrossEntropy) {
  torch::manual_seed(3);
  const int n = 5, k = 4;
  auto logits = torch::randn({n, k}, torch::kDouble) * 3;
  auto targets = (torch::rand({n, k}, torch::kDouble) > 0.5).to(torch::kDouble);
  auto weights = torch::tensor({1.0, 2.5, 4.0, 1.5}, torch::kDouble);
  for (bool weighted : {false, true}) {
    double expected = 0;
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < k; ++j) {
        const double z = logits[i][j].item<double>(), y = targets[i][j].item<double>();
        const double p = 1 / (1 + std::exp(-z));
        const double w = weighted ? weights[j].item<double>() : 1.0;
        expected += -(w * y * std::log(p) + (1 - y) * std::log(1 - p));
      }
    expected /= n;
    const double got =
        multitask_loss(logits, targets, weighted ? weights : torch::Tensor()).item<double>();
    EXPECT_NEAR(got, expected, 1e-12) << "weighted " << weighted;
  }
}

TEST(MultiTaskNet, GradientsMatchFiniteDifferences) {
  auto backbone = std::make_shared<test::TinyBackbone>(11);
  MultiTaskSpec spec;
  spec.cut = "conv3";
  spec.freeze_through = "pool1";
  spec.hidden = 5;
  spec.dropout = 0.5;
  torch::manual_seed(5);
  auto net = std::make_shared<MultiTaskNet>(backbone, spec, 3, 8, 8);
  net->to(torch::kDouble);
  net->eval();  // dropout off: the loss is a deterministic function of the weights
  auto x = torch::randn({4, 3, 8, 8}, torch::kDouble);
  auto y = (torch::rand({4, 3}, torch::kDouble) > 0.5).to(torch::kDouble);
  auto pw = torch::tensor({1.0, 3.0, 2.0}, torch::kDouble);
  auto loss_of = [&] { return multitask_loss(net->forward(x), y, pw); };

  net->zero_grad();
  loss_of().backward();
  // conv1 is frozen: no gradient, not trainable.
  for (const auto& item : net->named_parameters()) {
    const bool frozen = item.key().find("conv1") != std::string::npos ||
                        item.key().find("pool1") != std::string::npos;
    EXPECT_EQ(item.value().requires_grad(), !frozen) << item.key();
  }
  int checked = 0;
  torch::NoGradGuard no_grad;
  for (const auto& item : net->named_parameters()) {
    torch::Tensor p = item.value();
    if (!p.requires_grad()) continue;
    const torch::Tensor grad = p.grad().clone();
    auto flat = p.view(-1);
    for (int64_t i = 0; i < flat.numel(); i += std::max<int64_t>(1, flat.numel() / 7)) {
      const double h = 1e-6, saved = flat[i].item<double>();
      flat[i] = saved + h;
      const double up = loss_of().item<double>();
      flat[i] = saved - h;
      const double down = loss_of().item<double>();
      flat[i] = saved;
      const double numeric = (up - down) / (2 * h);
      EXPECT_NEAR(grad.view(-1)[i].item<double>(), numeric, 1e-6 + 1e-5 * std::abs(numeric))
          << item.key() << "[" << i << "]";
      ++checked;
    }
  }
  EXPECT_GT(checked, 40);
}

TEST(MultiTaskNet, HeadSizesAndParameterGroups) {
  auto backbone = std::make_shared<test::TinyBackbone>(1);
  MultiTaskSpec spec;
  spec.cut = "conv2";
  spec.freeze_through = "none";
  spec.hidden = 7;
  MultiTaskNet avg(backbone, spec, 2, 8, 8);
  EXPECT_EQ(avg.head_input_dim(), 6);
  EXPECT_EQ(avg.frozen_through(), -1);
  EXPECT_EQ(avg.transferred_parameters().size(), 4u);  // conv1, conv2: weight + bias
  EXPECT_EQ(avg.head_parameters().size(), 4u);
  spec.pool = "flatten";
  MultiTaskNet flat(std::make_shared<test::TinyBackbone>(1), spec, 2, 8, 8);
  EXPECT_EQ(flat.head_input_dim(), 6 * 4 * 4);
  EXPECT_EQ(flat.forward(torch::zeros({3, 3, 8, 8})).sizes(), torch::IntArrayRef({3, 2}));
  spec.freeze_through = "conv3";
  EXPECT_THROW(MultiTaskNet(std::make_shared<test::TinyBackbone>(1), spec, 2, 8, 8), Error);
  spec.freeze_through = "nonsense";
  EXPECT_THROW(MultiTaskNet(std::make_shared<test::TinyBackbone>(1), spec, 2, 8, 8), Error);
}
