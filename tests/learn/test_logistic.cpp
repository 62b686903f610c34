#include <gtest/gtest.h>

#include <random>

#include "ishannot/learn/logistic.h"

using namespace ishannot;

namespace {

struct Problem {
  Eigen::MatrixXd x, x_test;
  std::vector<uint8_t> y;
};

// Overlapping classes (not separable), so the optimum is finite and unique.
Problem random_problem(int m, int d, unsigned seed, double shift = 0.7) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  Problem p;
  p.x.resize(m, d);
  p.x_test.resize(15, d);
  p.y.resize(m);
  for (int i = 0; i < m; ++i) {
    p.y[i] = static_cast<uint8_t>(rng() % 3 == 0);
    for (int j = 0; j < d; ++j) p.x(i, j) = normal(rng) + (p.y[i] && j < 3 ? shift : 0.0);
  }
  for (int i = 0; i < 15; ++i)
    for (int j = 0; j < d; ++j) p.x_test(i, j) = normal(rng);
  return p;
}

// Independent gradient of 0.5 |w|^2 + C sum log(1 + exp(-y (w.x + b))), y in {-1, +1}.
Eigen::VectorXd primal_gradient(const Problem& p, const Eigen::VectorXd& w, double b, double C) {
  Eigen::VectorXd grad = Eigen::VectorXd::Zero(w.size() + 1);
  grad.head(w.size()) = w;
  for (int i = 0; i < p.x.rows(); ++i) {
    const double y = p.y[i] ? 1.0 : -1.0;
    const double margin = y * (p.x.row(i).dot(w) + b);
    const double coef = -C * y / (1.0 + std::exp(margin));
    grad.head(w.size()) += coef * p.x.row(i).transpose();
    grad[w.size()] += coef;
  }
  return grad;
}

}  // namespace

class SolversAgree : public ::testing::TestWithParam<std::tuple<int, int, double>> {};

// Kernel form and primal form solve the same problem: decision values on held-out points agree.
TEST_P(SolversAgree, OnRandomProblems) {
  const auto [m, d, C] = GetParam();
  const Problem p = random_problem(m, d, static_cast<unsigned>(m * 31 + d));
  LogisticParams params;
  params.C = C;
  params.tolerance = 1e-14;
  const auto primal = fit_primal_logistic(p.x, p.y, params);
  const Eigen::MatrixXd gram = p.x * p.x.transpose();
  const auto kernel = fit_kernel_logistic(gram, p.y, params);
  ASSERT_TRUE(primal.converged);
  ASSERT_TRUE(kernel.converged);
  const Eigen::VectorXd w_kernel = p.x.transpose() * kernel.coef;
  const Eigen::VectorXd f_primal = (p.x_test * primal.weights).array() + primal.bias;
  const Eigen::VectorXd f_kernel = (p.x_test * p.x.transpose() * kernel.coef).array() + kernel.bias;
  for (int i = 0; i < f_primal.size(); ++i)
    EXPECT_NEAR(f_kernel[i], f_primal[i], 1e-6 * (1 + std::abs(f_primal[i]))) << i;
  EXPECT_NEAR(kernel.bias, primal.bias, 1e-6 * (1 + std::abs(primal.bias)));
  // Both are optima of the objective, by an independently coded gradient.
  EXPECT_LT(primal_gradient(p, primal.weights, primal.bias, C).norm(), 1e-6);
  EXPECT_LT(primal_gradient(p, w_kernel, kernel.bias, C).norm(), 1e-6);
}

// m > d makes the Gram matrix singular (rank d): the kernel solver must not need K^-1.
INSTANTIATE_TEST_SUITE_P(Shapes, SolversAgree,
                         ::testing::Values(std::make_tuple(60, 10, 1.0),
                                           std::make_tuple(60, 200, 0.1),
                                           std::make_tuple(80, 40, 10.0),
                                           std::make_tuple(50, 300, 100.0),
                                           std::make_tuple(40, 5, 0.001)));

TEST(Logistic, WarmStartReachesTheSameOptimum) {
  const Problem p = random_problem(70, 30, 3);
  const Eigen::MatrixXd gram = p.x * p.x.transpose();
  LogisticParams params;
  params.C = 0.1;
  const auto first = fit_kernel_logistic(gram, p.y, params);
  params.C = 1.0;
  const auto cold = fit_kernel_logistic(gram, p.y, params);
  const auto warm = fit_kernel_logistic(gram, p.y, params, &first);
  EXPECT_LT((cold.coef - warm.coef).norm(), 1e-6 * (1 + cold.coef.norm()));
  EXPECT_NEAR(cold.bias, warm.bias, 1e-6);
}

TEST(Logistic, ZeroFeaturesGiveTheClassPriorAsBias) {
  // w = 0 whatever C: the unregularised bias is the log-odds of the classes (2 of 5 positive).
  const Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(5, 5);
  const auto model = fit_kernel_logistic(gram, {1, 0, 1, 0, 0}, LogisticParams{});
  EXPECT_NEAR(model.bias, std::log(2.0 / 3.0), 1e-9);
}

TEST(Logistic, ParamsCheck) {
  LogisticParams p;
  EXPECT_EQ(p.check(), "");
  p.C = -1;
  EXPECT_NE(p.check(), "");
}
