// Lasso by coordinate descent on the Gram matrix (Friedman et al. 2010, "covariance updates"):
// with r = c - G a kept current, the update of coordinate j is a soft threshold of r_j + G_jj a_j
// and costs O(K) only when a_j changes. Full sweeps find new atoms; sweeps over the active set
// converge them; a final full sweep that changes nothing certifies the KKT conditions.
#include <cmath>

#include "ishannot/sparse_coding.h"

namespace ishannot {

void SparseCoder::lasso(const double* c, std::vector<double>& a, std::vector<double>& r,
                        std::vector<int>& active) const {
  const int k = atoms();
  const double lambda = params_.lambda;
  const double tol = params_.tolerance;
  active.clear();
  for (int i = 0; i < k; ++i) r[i] = c[i];  // a == 0 on entry

  auto update = [&](int j, double& max_delta) {
    const double gjj = gram_(j, j);
    if (gjj <= 0) return;
    const double z = r[j] + gjj * a[j];
    const double shrunk = z > lambda ? z - lambda : (z < -lambda ? z + lambda : 0.0);
    const double next = shrunk / gjj;
    const double delta = next - a[j];
    if (delta == 0) return;
    if (a[j] == 0) active.push_back(j);
    a[j] = next;
    const double* g = gram_.data() + static_cast<size_t>(j) * k;
    for (int i = 0; i < k; ++i) r[i] -= g[i] * delta;
    max_delta = std::max(max_delta, std::abs(delta));
  };

  int sweeps = 0;
  while (sweeps < params_.max_sweeps) {
    double max_delta = 0;
    for (int j = 0; j < k; ++j) update(j, max_delta);
    ++sweeps;
    if (max_delta <= tol) break;
    while (sweeps < params_.max_sweeps) {
      double inner = 0;
      const size_t n_active = active.size();
      for (size_t t = 0; t < n_active; ++t) update(active[t], inner);
      ++sweeps;
      if (inner <= tol) break;
    }
    // Drop coordinates that went back to zero (they re-enter through the next full sweep).
    size_t kept = 0;
    for (int j : active) {
      if (a[j] != 0) active[kept++] = j;
    }
    active.resize(kept);
  }
  size_t kept = 0;
  for (int j : active) {
    if (a[j] != 0) active[kept++] = j;
  }
  active.resize(kept);
}

}  // namespace ishannot
