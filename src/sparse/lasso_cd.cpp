// Lasso on the Gram matrix: coordinate-descent activation plus exact solves on the active set.
//
// With r = c - G a kept current, a full sweep over the inactive atoms activates every atom that
// violates the KKT conditions (|r_j| > lambda) by a coordinate-descent step (Friedman et al. 2010,
// "covariance updates", O(K) per activated atom). The active set A is then solved exactly in the
// orthant of its signs s (Lee et al. 2007, "feature-sign" step): a_A = G_AA^-1 (c_A - lambda s);
// if a sign flips, the step stops at the first zero crossing (the objective decreases along the
// segment), that atom leaves A, and the solve repeats. The loop ends when a full sweep activates
// nothing: every inactive atom meets |r_j| <= lambda and the active ones meet r_j = lambda s_j.
// The O(K) residual updates run in float (r is rebuilt from c after every solve, so rounding does
// not accumulate); the solves run in double. When G_AA is singular (more active atoms than
// dimensions, duplicate atoms) the active set is converged by coordinate descent on its own m x m
// Gram block instead.
#include <Eigen/Cholesky>
#include <cmath>

#include "ishannot/sparse/sparse_coding.h"

namespace ishannot {
namespace {

double soft(double z, double lambda) {
  return z > lambda ? z - lambda : (z < -lambda ? z + lambda : 0.0);
}

}  // namespace

void SparseCoder::lasso(const double* c, std::vector<double>& a, std::vector<float>& r,
                        std::vector<int>& active) const {
  const int k = atoms();
  const double lambda = params_.lambda;
  const double tol = params_.tolerance;
  active.clear();
  for (int i = 0; i < k; ++i) r[i] = static_cast<float>(c[i]);  // a == 0 on entry

  Eigen::MatrixXd block;
  Eigen::VectorXd rhs, target;
  int sweeps = 0;
  while (sweeps < params_.max_sweeps) {
    // Full sweep over the inactive atoms (the active ones are solved below).
    bool activated = false;
    for (int j = 0; j < k; ++j) {
      const double gjj = gram_(j, j);
      if (gjj <= 0 || a[j] != 0) continue;
      const double next = soft(r[j], lambda) / gjj;
      if (next == 0) continue;
      active.push_back(j);
      a[j] = next;
      const float* g = gram_f_.data() + static_cast<size_t>(j) * k;
      const auto step = static_cast<float>(next);
      for (int i = 0; i < k; ++i) r[i] -= g[i] * step;
      activated = true;
    }
    ++sweeps;
    if (!activated) break;

    // Exact solves on the active set, dropping atoms whose sign would flip.
    bool exact = true;
    while (!active.empty() && sweeps < params_.max_sweeps) {
      const int m = static_cast<int>(active.size());
      block.resize(m, m);
      rhs.resize(m);
      for (int t = 0; t < m; ++t) {
        for (int s = 0; s < m; ++s) block(s, t) = gram_(active[s], active[t]);
        rhs[t] = c[active[t]] - lambda * (a[active[t]] > 0 ? 1.0 : -1.0);
      }
      const Eigen::LLT<Eigen::MatrixXd> llt(block);
      if (llt.info() != Eigen::Success) {
        exact = false;
        break;
      }
      target = llt.solve(rhs);
      if (!target.allFinite()) {
        exact = false;
        break;
      }
      double step = 1.0;
      int crossing = -1;
      for (int t = 0; t < m; ++t) {
        const double now = a[active[t]];
        if (target[t] * now <= 0) {
          const double at = now / (now - target[t]);
          if (at < step) {
            step = at;
            crossing = t;
          }
        }
      }
      for (int t = 0; t < m; ++t) a[active[t]] += step * (target[t] - a[active[t]]);
      ++sweeps;
      if (crossing < 0) break;
      a[active[crossing]] = 0;
      active.erase(active.begin() + crossing);
    }
    if (!exact) {
      // Coordinate descent on the active block.
      const int m = static_cast<int>(active.size());
      std::vector<double> ra(m), aa(m);
      for (int t = 0; t < m; ++t) {
        aa[t] = a[active[t]];
        double v = c[active[t]];
        for (int s = 0; s < m; ++s) v -= gram_(active[t], active[s]) * a[active[s]];
        ra[t] = v;
      }
      while (sweeps < params_.max_sweeps) {
        double inner = 0;
        for (int t = 0; t < m; ++t) {
          const double gtt = gram_(active[t], active[t]);
          if (gtt <= 0) continue;
          const double next = soft(ra[t] + gtt * aa[t], lambda) / gtt;
          const double delta = next - aa[t];
          if (delta == 0) continue;
          aa[t] = next;
          const double* g = gram_.data() + static_cast<size_t>(active[t]) * k;
          for (int s = 0; s < m; ++s) ra[s] -= g[active[s]] * delta;
          inner = std::max(inner, std::abs(delta));
        }
        ++sweeps;
        if (inner <= tol) break;
      }
      for (int t = 0; t < m; ++t) a[active[t]] = aa[t];
    }
    // Drop zeros and rebuild the full residual r = c - G_A a_A.
    size_t kept = 0;
    for (int j : active) {
      if (a[j] != 0) active[kept++] = j;
    }
    active.resize(kept);
    for (int i = 0; i < k; ++i) r[i] = static_cast<float>(c[i]);
    for (int j : active) {
      const float* g = gram_f_.data() + static_cast<size_t>(j) * k;
      const auto aj = static_cast<float>(a[j]);
      for (int i = 0; i < k; ++i) r[i] -= g[i] * aj;
    }
  }
}

}  // namespace ishannot
