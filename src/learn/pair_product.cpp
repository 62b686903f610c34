#include "learn/pair_product.h"

#include <Eigen/Dense>
#include <algorithm>

#include "learn/tile_product.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define ISHANNOT_HAVE_AVX2_KERNEL 1
#endif

namespace ishannot::detail {

void symmetric_product_pair_generic(const double* g, int64_t n, const double* v0, const double* v1,
                                    double* y0, double* y1) {
  const Eigen::Map<const Eigen::MatrixXd> matrix(g, n, n);
  const auto upper = matrix.selfadjointView<Eigen::Upper>();
  Eigen::Map<Eigen::VectorXd>(y0, n).noalias() = upper * Eigen::Map<const Eigen::VectorXd>(v0, n);
  Eigen::Map<Eigen::VectorXd>(y1, n).noalias() = upper * Eigen::Map<const Eigen::VectorXd>(v1, n);
}

#ifdef ISHANNOT_HAVE_AVX2_KERNEL
namespace {

__attribute__((target("avx2,fma"))) inline double horizontal_sum(__m256d v) {
  __m128d lo = _mm256_castpd256_pd128(v);
  lo = _mm_add_pd(lo, _mm256_extractf128_pd(v, 1));
  return _mm_cvtsd_f64(_mm_add_sd(lo, _mm_unpackhi_pd(lo, lo)));
}

// y = G v for both v, reading only the entries on and above the diagonal of each column of G
// (half the memory traffic of a full pass: this is memory-bound). Four columns j..j+3 at a time:
// their entries above row j feed four dot products (y[j..j+3]) and, by symmetry, the updates
// y[i] += G(i, j + r) v[j + r] of the rows above, so each load of v and y serves four columns.
__attribute__((target("avx2,fma"))) void product_pair_avx2(const double* g, int64_t n,
                                                           const double* v0, const double* v1,
                                                           double* y0, double* y1) {
  std::fill(y0, y0 + n, 0.0);
  std::fill(y1, y1 + n, 0.0);
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) {  // j is a multiple of 4: rows [0, j) are whole vectors
    const double* column[4] = {g + j * n, g + (j + 1) * n, g + (j + 2) * n, g + (j + 3) * n};
    __m256d acc[4][2], b0[4], b1[4];
    for (int r = 0; r < 4; ++r) {
      acc[r][0] = acc[r][1] = _mm256_setzero_pd();
      b0[r] = _mm256_set1_pd(v0[j + r]);
      b1[r] = _mm256_set1_pd(v1[j + r]);
    }
    for (int64_t i = 0; i < j; i += 4) {
      const __m256d a0 = _mm256_loadu_pd(v0 + i), a1 = _mm256_loadu_pd(v1 + i);
      __m256d u0 = _mm256_loadu_pd(y0 + i), u1 = _mm256_loadu_pd(y1 + i);
      for (int r = 0; r < 4; ++r) {
        const __m256d x = _mm256_loadu_pd(column[r] + i);
        acc[r][0] = _mm256_fmadd_pd(x, a0, acc[r][0]);
        acc[r][1] = _mm256_fmadd_pd(x, a1, acc[r][1]);
        u0 = _mm256_fmadd_pd(x, b0[r], u0);
        u1 = _mm256_fmadd_pd(x, b1[r], u1);
      }
      _mm256_storeu_pd(y0 + i, u0);
      _mm256_storeu_pd(y1 + i, u1);
    }
    for (int r = 0; r < 4; ++r) {
      y0[j + r] += horizontal_sum(acc[r][0]);
      y1[j + r] += horizontal_sum(acc[r][1]);
      // The 4 x 4 block on the diagonal: column j + r, rows j .. j + r.
      for (int64_t i = j; i < j + r; ++i) {
        const double x = column[r][i];
        y0[j + r] += x * v0[i];
        y1[j + r] += x * v1[i];
        y0[i] += x * v0[j + r];
        y1[i] += x * v1[j + r];
      }
      y0[j + r] += column[r][j + r] * v0[j + r];
      y1[j + r] += column[r][j + r] * v1[j + r];
    }
  }
  for (; j < n; ++j) {  // the last n % 4 columns
    const double* column = g + j * n;
    double s0 = 0, s1 = 0;
    for (int64_t i = 0; i < j; ++i) {
      s0 += column[i] * v0[i];
      s1 += column[i] * v1[i];
      y0[i] += column[i] * v0[j];
      y1[i] += column[i] * v1[j];
    }
    y0[j] += s0 + column[j] * v0[j];
    y1[j] += s1 + column[j] * v1[j];
  }
}

}  // namespace
#endif

void symmetric_product_pair(const double* g, int64_t n, const double* v0, const double* v1,
                            double* y0, double* y1) {
#ifdef ISHANNOT_HAVE_AVX2_KERNEL
  if (tile_product_uses_avx2()) {  // the same CPU test: AVX2 and FMA
    product_pair_avx2(g, n, v0, v1, y0, y1);
    return;
  }
#endif
  symmetric_product_pair_generic(g, n, v0, v1, y0, y1);
}

}  // namespace ishannot::detail
