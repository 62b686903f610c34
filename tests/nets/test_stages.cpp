// Building blocks checked against the literal definitions: BN folding against conv followed by
// the BatchNorm formula, HWIO->OIHW against index arithmetic, convolution against naive loops,
// the input preprocessing against its formula.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <opencv2/core.hpp>

#include "ishannot/nets/backbone.h"
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

namespace {

// A stage-less backbone with the given pixel preprocessing: only to_input is used.
class PreprocessingOnly : public Backbone {
 public:
  explicit PreprocessingOnly(PixelPreprocessing p) : Backbone("none", p) {}
};

}  // namespace

// to_input against the definition, pixel by pixel in double: plane c of image n is source channel
// (BGR, or RGB with rgb) times scale / stdev[c] minus mean[c] / stdev[c]. Widths 3 and 37 (loop
// tails of a vectorised row), two images per batch, both preprocessings.
TEST(Stages, ToInputEqualsThePreprocessingFormula) {
  for (const PixelPreprocessing& p :
       {PixelPreprocessing::caffe(), PixelPreprocessing::torchvision()}) {
    PreprocessingOnly net(p);
    for (int w : {3, 37}) {
      const int h = 5;
      std::vector<cv::Mat> images;
      for (int n = 0; n < 2; ++n) {
        cv::Mat img(h, w, CV_8UC3);
        for (int y = 0; y < h; ++y)
          for (int x = 0; x < w; ++x)
            for (int k = 0; k < 3; ++k)
              img.at<cv::Vec3b>(y, x)[k] = (n * 101 + y * 37 + x * 11 + k * 89) % 256;
        images.push_back(img);
      }
      const torch::Tensor t = net.to_input(images);
      ASSERT_EQ(t.sizes(), torch::IntArrayRef({2, 3, h, w}));
      const auto a = t.accessor<float, 4>();
      for (int n = 0; n < 2; ++n)
        for (int c = 0; c < 3; ++c)
          for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x) {
              const int source = p.rgb ? 2 - c : c;
              const double v = images[n].at<cv::Vec3b>(y, x)[source];
              const double expected = (v * p.scale - p.mean[c]) / p.stdev[c];
              ASSERT_NEAR(a[n][c][y][x], expected, 1e-5 * (1 + std::abs(expected)))
                  << p.name << " w=" << w << " n=" << n << " c=" << c << " y=" << y << " x=" << x;
            }
    }
  }
}
