// Kernel PCA on a Gram matrix (kernel_pca.h).
#include "ishannot/learn/kernel_pca.h"

#include <algorithm>
#include <cmath>

#include "ishannot/common/error.h"

namespace ishannot {

std::string KernelPcaParams::check() const {
  if (components < 1) return "kernel PCA components must be >= 1";
  if (!(min_ratio >= 0) || !(min_ratio < 1)) return "kernel PCA min_ratio must be in [0, 1)";
  return "";
}

KernelPca fit_kernel_pca(const Eigen::MatrixXd& gram, const std::vector<int>& train_rows,
                         const KernelPcaParams& params) {
  if (auto problem = params.check(); !problem.empty()) throw Error(problem);
  const auto n = static_cast<Eigen::Index>(train_rows.size());
  if (n < 2) throw Error("kernel PCA needs at least 2 training rows, got " + std::to_string(n));
  Eigen::MatrixXd k(n, n);
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j < n; ++j)
      k(i, j) = gram(train_rows[static_cast<size_t>(i)], train_rows[static_cast<size_t>(j)]);
  KernelPca pca;
  pca.train_rows = train_rows;
  pca.column_mean = k.rowwise().mean();
  pca.grand_mean = pca.column_mean.mean();
  Eigen::MatrixXd centred = k;
  centred.colwise() -= pca.column_mean;
  centred.rowwise() -= pca.column_mean.transpose();
  centred.array() += pca.grand_mean;
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(centred);
  if (solver.info() != Eigen::Success) throw Error("kernel PCA: the eigen solver did not converge");
  const Eigen::VectorXd& values = solver.eigenvalues();  // ascending
  const double largest = values(n - 1);
  if (!(largest > 0)) throw Error("kernel PCA: the training vectors are all equal");
  int r = 0;
  while (r < params.components && r < n && values(n - 1 - r) > params.min_ratio * largest) ++r;
  pca.eigenvalues.resize(r);
  for (int j = 0; j < r; ++j) pca.eigenvalues(j) = values(n - 1 - j);
  const double s = std::sqrt(pca.eigenvalues.mean() / static_cast<double>(n));
  pca.directions.resize(n, r);
  for (int j = 0; j < r; ++j)
    pca.directions.col(j) =
        solver.eigenvectors().col(n - 1 - j) / (std::sqrt(pca.eigenvalues(j)) * s);
  return pca;
}

Eigen::MatrixXd kernel_pca_project(const Eigen::MatrixXd& gram, const KernelPca& pca,
                                   const std::vector<int>& rows) {
  const auto n = static_cast<Eigen::Index>(pca.train_rows.size());
  Eigen::MatrixXd kc(n, static_cast<Eigen::Index>(rows.size()));
  for (size_t c = 0; c < rows.size(); ++c)
    for (Eigen::Index t = 0; t < n; ++t)
      kc(t, static_cast<Eigen::Index>(c)) = gram(pca.train_rows[static_cast<size_t>(t)], rows[c]);
  const Eigen::RowVectorXd own_mean = kc.colwise().mean();
  kc.colwise() -= pca.column_mean;
  kc.rowwise() -= own_mean;
  kc.array() += pca.grand_mean;
  return pca.directions.transpose() * kc;
}

}  // namespace ishannot
