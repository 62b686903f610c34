// Kernel PCA from a Gram matrix against PCA of the explicit vectors (Eigen's SVD of the centred
// training vectors): same coordinates up to each direction's sign.
#include <gtest/gtest.h>

#include <random>

#include "ishannot/common/error.h"
#include "ishannot/learn/kernel_pca.h"

using namespace ishannot;

namespace {

Eigen::MatrixXd random_vectors(int n, int d, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  Eigen::MatrixXd x(n, d);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < d; ++j) x(i, j) = normal(rng) * (1.0 + 0.5 * j) + (j == 2 ? 3.0 : 0.0);
  return x;
}

}  // namespace

TEST(KernelPca, CoordinatesEqualPcaOfTheExplicitVectors) {
  const Eigen::MatrixXd x = random_vectors(40, 6, 7);
  const Eigen::MatrixXd gram = x * x.transpose();
  std::vector<int> train;
  for (int i = 0; i < 40; i += 1)
    if (i % 4 != 0) train.push_back(i);  // 30 training rows, 10 others
  KernelPcaParams params;
  params.components = 4;
  const KernelPca pca = fit_kernel_pca(gram, train, params);
  ASSERT_EQ(pca.components(), 4);
  std::vector<int> all(40);
  for (int i = 0; i < 40; ++i) all[static_cast<size_t>(i)] = i;
  const Eigen::MatrixXd coords = kernel_pca_project(gram, pca, all);

  // Reference: centre the training vectors, SVD, project every vector.
  Eigen::MatrixXd xt(30, 6);
  for (int r = 0; r < 30; ++r) xt.row(r) = x.row(train[static_cast<size_t>(r)]);
  const Eigen::RowVectorXd mu = xt.colwise().mean();
  const Eigen::JacobiSVD<Eigen::MatrixXd> svd(xt.rowwise() - mu, Eigen::ComputeThinV);
  const Eigen::VectorXd lambda = svd.singularValues().head(4).array().square();
  const double s = std::sqrt(lambda.mean() / 30.0);
  const Eigen::MatrixXd reference =
      ((x.rowwise() - mu) * svd.matrixV().leftCols(4)).transpose() / s;
  for (int j = 0; j < 4; ++j) {
    EXPECT_NEAR(pca.eigenvalues(j), lambda(j), 1e-8 * lambda(0));
    const double sign = reference.row(j).dot(coords.row(j)) >= 0 ? 1.0 : -1.0;
    EXPECT_LT((coords.row(j) - sign * reference.row(j)).cwiseAbs().maxCoeff(), 1e-8) << j;
  }
  // The training coordinates have mean variance 1 over the kept directions.
  std::vector<int> rows = train;
  const Eigen::MatrixXd tc = kernel_pca_project(gram, pca, rows);
  EXPECT_NEAR(tc.array().square().sum() / (30.0 * 4), 1.0, 1e-9);
}

TEST(KernelPca, KeepsNoMoreDirectionsThanTheRank) {
  Eigen::MatrixXd x = random_vectors(20, 3, 3);  // centred rank <= 3
  const Eigen::MatrixXd gram = x * x.transpose();
  std::vector<int> train(20);
  for (int i = 0; i < 20; ++i) train[static_cast<size_t>(i)] = i;
  KernelPcaParams params;
  params.components = 10;
  EXPECT_EQ(fit_kernel_pca(gram, train, params).components(), 3);
}

TEST(KernelPca, EqualVectorsAndTooFewRowsAreErrors) {
  const Eigen::MatrixXd same = Eigen::MatrixXd::Ones(5, 5);
  EXPECT_THROW(fit_kernel_pca(same, {0, 1, 2}, {}), Error);
  EXPECT_THROW(fit_kernel_pca(same, {0}, {}), Error);
}
