// The float32 blocked Cholesky and the paired symmetric product against Eigen's double routines.
#include <gtest/gtest.h>

#include <Eigen/Dense>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>

#include "learn/cholesky.h"
#include "learn/pair_product.h"

using namespace ishannot::detail;

namespace {

using RowMajorFloat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// X X^T / d + 0.1 I: symmetric positive definite, condition number up to ~100.
Eigen::MatrixXd random_spd(int n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  const int d = n / 2 + 3;
  Eigen::MatrixXd x(n, d);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < d; ++j) x(i, j) = normal(rng);
  Eigen::MatrixXd a = x * x.transpose() / d;
  a.diagonal().array() += 0.1;
  return a;
}

}  // namespace

class CholeskyFloat : public ::testing::TestWithParam<std::tuple<int, int>> {};

// A = L L^T against Eigen's double LLT: the factor, the product and a solve.
void check_against_double_llt(int n, int block);

TEST_P(CholeskyFloat, MatchesEigenDoubleLlt) {
  // Both update kernels: oneDNN's sgemm (where the build has it) and tile_product.
  for (const char* kernel : {"default", "tiles"}) {
    SCOPED_TRACE(kernel);
    if (std::string(kernel) == "tiles")
      setenv("ISHANNOT_GEMM_KERNEL", "tiles", 1);
    else
      unsetenv("ISHANNOT_GEMM_KERNEL");
    check_against_double_llt(std::get<0>(GetParam()), std::get<1>(GetParam()));
  }
  unsetenv("ISHANNOT_GEMM_KERNEL");
}

void check_against_double_llt(int n, int block) {
  const Eigen::MatrixXd a = random_spd(n, static_cast<unsigned>(n * 7 + block));
  // Padded rows (lda > n) and a NaN upper triangle: neither may be read.
  const int lda = n + 3;
  RowMajorFloat storage = RowMajorFloat::Constant(n, lda, std::numeric_limits<float>::quiet_NaN());
  for (int i = 0; i < n; ++i)
    for (int j = 0; j <= i; ++j) storage(i, j) = static_cast<float>(a(i, j));
  ASSERT_TRUE(cholesky_float(storage.data(), n, lda, block));
  Eigen::MatrixXd l = Eigen::MatrixXd::Zero(n, n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j <= i; ++j) l(i, j) = storage(i, j);
  const Eigen::MatrixXd reference = a.llt().matrixL();
  EXPECT_LT((l - reference).norm(), 1e-4 * reference.norm());
  EXPECT_LT((l * l.transpose() - a).norm(), 1e-5 * a.norm());
  // The solve: x = A^-1 b up to float32 rounding.
  Eigen::VectorXd b = Eigen::VectorXd::LinSpaced(n, -1.0, 2.0);
  Eigen::VectorXf x = b.cast<float>();
  cholesky_float_solve(storage.data(), n, lda, x.data());
  const Eigen::VectorXd exact = a.llt().solve(b);
  EXPECT_LT((x.cast<double>() - exact).norm(), 1e-3 * exact.norm());
  // Two right-hand sides in one pass: each as close to the exact solution.
  const Eigen::VectorXd b1 = Eigen::VectorXd::LinSpaced(n, 4.0, -3.0).array().cos();
  Eigen::VectorXf p0 = b.cast<float>(), p1 = b1.cast<float>();
  cholesky_float_solve_pair(storage.data(), n, lda, p0.data(), p1.data());
  const Eigen::VectorXd exact1 = a.llt().solve(b1);
  EXPECT_LT((p0.cast<double>() - exact).norm(), 1e-3 * exact.norm());
  EXPECT_LT((p1.cast<double>() - exact1).norm(), 1e-3 * exact1.norm());
  // And as Eigen's float triangular solves with the same factor, up to summation order (the
  // paired kernel takes four rows at a time, the last n % 4 one by one).
  EXPECT_LT((p0 - x).norm(), 1e-5 * x.norm());
  Eigen::VectorXf x1 = b1.cast<float>();
  cholesky_float_solve(storage.data(), n, lda, x1.data());
  EXPECT_LT((p1 - x1).norm(), 1e-5 * x1.norm());
}

// Sizes around and between block multiples, 1 x 1 included; the default block at the end.
INSTANTIATE_TEST_SUITE_P(Sizes, CholeskyFloat,
                         ::testing::Values(std::make_tuple(1, 4), std::make_tuple(2, 4),
                                           std::make_tuple(5, 4), std::make_tuple(8, 4),
                                           std::make_tuple(37, 8), std::make_tuple(64, 16),
                                           std::make_tuple(131, 32), std::make_tuple(200, 1),
                                           std::make_tuple(457, 96),
                                           std::make_tuple(300, static_cast<int>(kCholeskyBlock)),
                                           std::make_tuple(700, static_cast<int>(kCholeskyBlock))));

TEST(CholeskyFloatFails, OnIndefiniteOrNanInput) {
  for (int n : {1, 10, 70}) {
    Eigen::MatrixXd a = random_spd(n, 5);
    a(n - 1, n - 1) = -1.0;  // the last pivot goes negative, in the last block
    RowMajorFloat storage = a.cast<float>();
    EXPECT_FALSE(cholesky_float(storage.data(), n, n, 16)) << n;
    storage = a.cast<float>();
    storage(n / 2, 0) = std::numeric_limits<float>::quiet_NaN();
    storage(n / 2, n / 2) = std::numeric_limits<float>::quiet_NaN();
    EXPECT_FALSE(cholesky_float(storage.data(), n, n, 16)) << n;
  }
}

TEST(SymmetricProductPair, MatchesEigenReadingOnlyTheUpperTriangle) {
  for (int n : {1, 3, 4, 5, 7, 8, 9, 33, 258}) {
    const Eigen::MatrixXd g = random_spd(n, static_cast<unsigned>(n));
    // What the kernels get: the strict lower triangle is NaN (must not be read).
    Eigen::MatrixXd upper = g;
    for (int j = 0; j < n; ++j)
      for (int i = j + 1; i < n; ++i) upper(i, j) = std::numeric_limits<double>::quiet_NaN();
    const Eigen::VectorXd v0 = Eigen::VectorXd::LinSpaced(n, -1.0, 1.0);
    const Eigen::VectorXd v1 = Eigen::VectorXd::LinSpaced(n, 3.0, 0.5).array().sin();
    Eigen::VectorXd y0(n), y1(n), z0(n), z1(n);
    symmetric_product_pair(upper.data(), n, v0.data(), v1.data(), y0.data(), y1.data());
    symmetric_product_pair_generic(upper.data(), n, v0.data(), v1.data(), z0.data(), z1.data());
    const Eigen::VectorXd e0 = g * v0, e1 = g * v1;
    EXPECT_LT((y0 - e0).norm(), 1e-12 * (1 + e0.norm())) << n;
    EXPECT_LT((y1 - e1).norm(), 1e-12 * (1 + e1.norm())) << n;
    EXPECT_LT((z0 - e0).norm(), 1e-12 * (1 + e0.norm())) << n;
    EXPECT_LT((z1 - e1).norm(), 1e-12 * (1 + e1.norm())) << n;
  }
}
