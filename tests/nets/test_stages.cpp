// Building blocks checked against the literal definitions: BN folding against conv followed by
// the BatchNorm formula, HWIO->OIHW against index arithmetic, convolution against naive loops.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "nets/stages.h"

using namespace ishannot;

TEST(Stages, FoldedBatchNormEqualsConvThenBatchNorm) {
  torch::manual_seed(1);
  auto x = torch::randn({2, 3, 9, 7});
  auto w = torch::randn({5, 3, 3, 3});
  auto b = torch::randn({5});
  auto gamma = torch::rand({5}) + 0.5, beta = torch::randn({5});
  auto mean = torch::randn({5}), var = torch::rand({5}) + 0.1;
  const double eps = 1e-3;
  auto y = torch::conv2d(x, w, b, 2, 1);
  auto expected = (y - mean.view({1, 5, 1, 1})) / torch::sqrt(var.view({1, 5, 1, 1}) + eps) *
                      gamma.view({1, 5, 1, 1}) +
                  beta.view({1, 5, 1, 1});
  auto [fw, fb] = ishannot::detail::fold_batchnorm(w, b, gamma, beta, mean, var, eps);
  ishannot::detail::ConvStage folded(fw, fb, 2, 1, false);
  EXPECT_TRUE(torch::allclose(folded.forward(x), expected, 1e-5, 1e-5));
}

TEST(Stages, HwioToOihwMovesEveryElement) {
  auto k = torch::arange(3 * 2 * 4 * 5, torch::kFloat32).view({3, 2, 4, 5});  // H W I O
  auto t = ishannot::detail::hwio_to_oihw(k);
  ASSERT_EQ(t.sizes(), torch::IntArrayRef({5, 4, 3, 2}));
  auto ka = k.accessor<float, 4>();
  auto ta = t.accessor<float, 4>();
  for (int h = 0; h < 3; ++h)
    for (int w = 0; w < 2; ++w)
      for (int i = 0; i < 4; ++i)
        for (int o = 0; o < 5; ++o) ASSERT_EQ(ta[o][i][h][w], ka[h][w][i][o]);
}

TEST(Stages, ConvMatchesNaiveLoops) {
  torch::manual_seed(2);
  auto x = torch::randn({1, 2, 5, 6});
  auto w = torch::randn({3, 2, 3, 3});
  auto b = torch::randn({3});
  ishannot::detail::ConvStage conv(w, b, 1, 1, true);
  auto y = conv.forward(x);
  auto xa = x.accessor<float, 4>();
  auto wa = w.accessor<float, 4>();
  for (int o = 0; o < 3; ++o)
    for (int r = 0; r < 5; ++r)
      for (int c = 0; c < 6; ++c) {
        double s = b[o].item<double>();
        for (int i = 0; i < 2; ++i)
          for (int dr = -1; dr <= 1; ++dr)
            for (int dc = -1; dc <= 1; ++dc) {
              if (r + dr < 0 || r + dr >= 5 || c + dc < 0 || c + dc >= 6) continue;
              s += xa[0][i][r + dr][c + dc] * wa[o][i][dr + 1][dc + 1];
            }
        EXPECT_NEAR(y[0][o][r][c].item<double>(), std::max(s, 0.0), 1e-4);
      }
}
