// Sparse coders against independent references: the lasso KKT conditions, a brute-force lasso
// over supports and sign patterns, and a textbook OMP with explicit residuals and QR solves.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <random>

#include "ishannot/common/error.h"
#include "ishannot/sparse/sparse_coding.h"

#include "support/test_util.h"

using namespace ishannot;

namespace {

Eigen::MatrixXf random_dictionary(int d, int k, uint64_t seed) {
  std::mt19937_64 rng(seed);
  return test::random_unit_columns(d, k, rng);
}

Eigen::MatrixXf random_unit_columns(int d, int n, uint64_t seed) {
  return random_dictionary(d, n, seed);
}

// Brute force: the lasso minimiser has a_S = (D_S^T D_S)^-1 (D_S^T x - lambda s) for its support S
// and sign pattern s; try them all and keep the sign-consistent one of least objective.
double brute_force_lasso(const Eigen::MatrixXd& D, const Eigen::VectorXd& x, double lambda) {
  const int k = static_cast<int>(D.cols()), d = static_cast<int>(D.rows());
  double best = 0.5 * x.squaredNorm();  // a = 0
  for (int mask = 1; mask < (1 << k); ++mask) {
    std::vector<int> s;
    for (int j = 0; j < k; ++j)
      if (mask & (1 << j)) s.push_back(j);
    if (static_cast<int>(s.size()) > d) continue;
    Eigen::MatrixXd Ds(d, s.size());
    for (size_t t = 0; t < s.size(); ++t) Ds.col(t) = D.col(s[t]);
    const Eigen::MatrixXd g = Ds.transpose() * Ds;
    for (int signs = 0; signs < (1 << s.size()); ++signs) {
      Eigen::VectorXd sv(s.size());
      for (size_t t = 0; t < s.size(); ++t) sv[t] = (signs & (1 << t)) ? 1.0 : -1.0;
      const Eigen::VectorXd a = g.ldlt().solve(Ds.transpose() * x - lambda * sv);
      bool consistent = true;
      for (size_t t = 0; t < s.size(); ++t) consistent = consistent && a[t] * sv[t] > 0;
      if (!consistent) continue;
      const double obj = 0.5 * (x - Ds * a).squaredNorm() + lambda * a.lpNorm<1>();
      best = std::min(best, obj);
    }
  }
  return best;
}

// Textbook OMP: explicit residual, least squares by QR on the chosen atoms.
Eigen::VectorXd reference_omp(const Eigen::MatrixXd& D, const Eigen::VectorXd& x, int sparsity) {
  Eigen::VectorXd residual = x, a = Eigen::VectorXd::Zero(D.cols());
  std::vector<int> s;
  for (int it = 0; it < sparsity; ++it) {
    Eigen::Index best;
    (D.transpose() * residual).cwiseAbs().maxCoeff(&best);
    s.push_back(static_cast<int>(best));
    Eigen::MatrixXd Ds(D.rows(), s.size());
    for (size_t t = 0; t < s.size(); ++t) Ds.col(t) = D.col(s[t]);
    const Eigen::VectorXd coef = Ds.colPivHouseholderQr().solve(x);
    residual = x - Ds * coef;
    a.setZero();
    for (size_t t = 0; t < s.size(); ++t) a[s[t]] = coef[t];
  }
  return a;
}

}  // namespace

TEST(SparseCoding, LassoSatisfiesKktConditions) {
  const Eigen::MatrixXf D = random_dictionary(32, 96, 1);
  const Eigen::MatrixXf X = random_unit_columns(32, 40, 2);
  SparseCodingParams p;
  p.lambda = 0.1;
  p.tolerance = 1e-9;
  p.max_sweeps = 5000;
  const Eigen::MatrixXf A = SparseCoder(D, p).encode(X).dense();
  const Eigen::MatrixXd Dd = D.cast<double>();
  int nonzeros = 0;
  for (int j = 0; j < X.cols(); ++j) {
    const Eigen::VectorXd g =
        Dd.transpose() * (X.col(j).cast<double>() - Dd * A.col(j).cast<double>());
    for (int i = 0; i < D.cols(); ++i) {
      if (A(i, j) != 0) {
        ++nonzeros;
        EXPECT_NEAR(g[i], p.lambda * (A(i, j) > 0 ? 1 : -1), 1e-4) << "atom " << i << " x " << j;
      } else {
        EXPECT_LE(std::abs(g[i]), p.lambda + 1e-4) << "atom " << i << " x " << j;
      }
    }
  }
  EXPECT_GT(nonzeros, X.cols());  // a real sparse solution, not all zero
}

TEST(SparseCoding, LassoMatchesBruteForceOnTinyProblems) {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    const Eigen::MatrixXf D = random_dictionary(4, 7, 100 + seed);
    const Eigen::MatrixXf X = random_unit_columns(4, 1, 200 + seed);
    for (double lambda : {0.02, 0.1, 0.3}) {
      SparseCodingParams p;
      p.lambda = lambda;
      p.tolerance = 1e-10;
      p.max_sweeps = 20000;
      const Eigen::MatrixXf a = SparseCoder(D, p).encode(X).dense();
      const double ours = lasso_objective(D, X.col(0), a.col(0), lambda);
      const double best = brute_force_lasso(D.cast<double>(), X.col(0).cast<double>(), lambda);
      EXPECT_NEAR(ours, best, 1e-5) << "seed " << seed << " lambda " << lambda;
    }
  }
}

TEST(SparseCoding, LassoOnOrthonormalDictionaryIsSoftThresholding) {
  // D = I: a = soft(x, lambda), worked out by hand.
  const Eigen::MatrixXf D = Eigen::MatrixXf::Identity(4, 4);
  Eigen::MatrixXf x(4, 1);
  x << 0.5f, -0.05f, -0.3f, 0.09f;
  SparseCodingParams p;
  p.lambda = 0.1;
  const Eigen::MatrixXf a = SparseCoder(D, p).encode(x).dense();
  EXPECT_NEAR(a(0, 0), 0.4, 1e-6);
  EXPECT_EQ(a(1, 0), 0.0f);
  EXPECT_NEAR(a(2, 0), -0.2, 1e-6);
  EXPECT_EQ(a(3, 0), 0.0f);
}

TEST(SparseCoding, OmpMatchesTextbookOmp) {
  const Eigen::MatrixXf D = random_dictionary(24, 64, 3);
  const Eigen::MatrixXf X = random_unit_columns(24, 30, 4);
  SparseCodingParams p;
  p.coder = CoderKind::kOmp;
  p.sparsity = 5;
  const Eigen::MatrixXf A = SparseCoder(D, p).encode(X).dense();
  for (int j = 0; j < X.cols(); ++j) {
    const Eigen::VectorXd ref = reference_omp(D.cast<double>(), X.col(j).cast<double>(), 5);
    for (int i = 0; i < D.cols(); ++i) EXPECT_NEAR(A(i, j), ref[i], 1e-4) << i << "," << j;
  }
}

TEST(SparseCoding, OmpRecoversAPlantedSparseSignal) {
  const Eigen::MatrixXf D = random_dictionary(64, 128, 5);
  Eigen::VectorXf a = Eigen::VectorXf::Zero(128);
  a[3] = 1.0f;
  a[40] = -0.7f;
  a[99] = 0.5f;
  const Eigen::MatrixXf x = D * a;
  SparseCodingParams p;
  p.coder = CoderKind::kOmp;
  p.sparsity = 3;
  const Eigen::MatrixXf got = SparseCoder(D, p).encode(x).dense();
  EXPECT_LT((got.col(0) - a).norm(), 1e-4);
}

TEST(SparseCoding, ZeroDescriptorGivesEmptyCode) {
  const Eigen::MatrixXf D = random_dictionary(8, 16, 6);
  for (CoderKind kind : {CoderKind::kLasso, CoderKind::kOmp}) {
    SparseCodingParams p;
    p.coder = kind;
    const SparseCodes codes = SparseCoder(D, p).encode(Eigen::MatrixXf::Zero(8, 3));
    EXPECT_EQ(codes.count(), 3);
    EXPECT_TRUE(codes.index.empty());
  }
}

TEST(SparseCoding, BadParametersAndShapesThrow) {
  SparseCodingParams p;
  p.lambda = 0;
  EXPECT_NE(p.check(), "");
  EXPECT_THROW(SparseCoder(Eigen::MatrixXf::Identity(4, 4), p), Error);
  EXPECT_THROW(parse_coder_kind("lars"), Error);
  const SparseCoder coder(Eigen::MatrixXf::Identity(4, 4), SparseCodingParams{});
  EXPECT_THROW(coder.encode(Eigen::MatrixXf::Zero(5, 1)), Error);
}
