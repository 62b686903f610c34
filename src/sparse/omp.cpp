// Batch OMP (Rubinstein, Zibulevsky & Elad 2008): greedy atom selection on r = c - G_S a_S, the
// least-squares coefficients from an incrementally grown Cholesky factor of G_SS.
#include <cmath>

#include "ishannot/sparse/sparse_coding.h"

namespace ishannot {

void SparseCoder::omp(const double* c, double x_norm2, std::vector<int>& support,
                      std::vector<double>& coef) const {
  const int k = atoms();
  const int max_atoms = std::min(params_.sparsity, k);
  support.clear();
  coef.clear();
  std::vector<double> r(c, c + k);
  std::vector<uint8_t> chosen(k, 0);
  Eigen::MatrixXd chol = Eigen::MatrixXd::Zero(max_atoms, max_atoms);  // lower triangular
  std::vector<double> w(max_atoms), tmp(max_atoms);
  while (static_cast<int>(support.size()) < max_atoms) {
    int best = -1;
    double best_value = 1e-12;
    for (int j = 0; j < k; ++j) {
      if (!chosen[j] && std::abs(r[j]) > best_value) {
        best_value = std::abs(r[j]);
        best = j;
      }
    }
    if (best < 0) break;
    const int s = static_cast<int>(support.size());
    // New Cholesky row: L w = G_S,best; diagonal sqrt(G_bb - w.w).
    double ww = 0;
    for (int i = 0; i < s; ++i) {
      double v = gram_(support[i], best);
      for (int t = 0; t < i; ++t) v -= chol(i, t) * w[t];
      w[i] = v / chol(i, i);
      ww += w[i] * w[i];
    }
    const double diag2 = gram_(best, best) - ww;
    if (diag2 <= 1e-10) break;  // atom (numerically) in the span of the support
    for (int i = 0; i < s; ++i) chol(s, i) = w[i];
    chol(s, s) = std::sqrt(diag2);
    support.push_back(best);
    chosen[best] = 1;
    const int n = s + 1;
    // Solve L L^T a = c_S.
    for (int i = 0; i < n; ++i) {
      double v = c[support[i]];
      for (int t = 0; t < i; ++t) v -= chol(i, t) * tmp[t];
      tmp[i] = v / chol(i, i);
    }
    coef.assign(n, 0.0);
    for (int i = n - 1; i >= 0; --i) {
      double v = tmp[i];
      for (int t = i + 1; t < n; ++t) v -= chol(t, i) * coef[t];
      coef[i] = v / chol(i, i);
    }
    for (int j = 0; j < k; ++j) r[j] = c[j];
    for (int i = 0; i < n; ++i) {
      const double* g = gram_.data() + static_cast<size_t>(support[i]) * k;
      for (int j = 0; j < k; ++j) r[j] -= g[j] * coef[i];
    }
    if (params_.omp_residual > 0) {
      double fit = 0;
      for (int i = 0; i < n; ++i) fit += coef[i] * c[support[i]];
      if (x_norm2 - fit <= params_.omp_residual) break;
    }
  }
}

}  // namespace ishannot
