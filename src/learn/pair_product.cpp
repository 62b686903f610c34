#include "learn/pair_product.h"

#include <Eigen/Dense>

#include "learn/tile_product.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define ISHANNOT_HAVE_AVX2_KERNEL 1
#endif

namespace ishannot::detail {

void symmetric_product_pair_generic(const double* g, int64_t n, const double* v0, const double* v1,
                                    double* y0, double* y1) {
  const Eigen::Map<const Eigen::MatrixXd> matrix(g, n, n);
  Eigen::Map<Eigen::VectorXd>(y0, n).noalias() = matrix * Eigen::Map<const Eigen::VectorXd>(v0, n);
  Eigen::Map<Eigen::VectorXd>(y1, n).noalias() = matrix * Eigen::Map<const Eigen::VectorXd>(v1, n);
}

#ifdef ISHANNOT_HAVE_AVX2_KERNEL
namespace {

__attribute__((target("avx2,fma"))) inline double horizontal_sum(__m256d v) {
  __m128d lo = _mm256_castpd256_pd128(v);
  lo = _mm_add_pd(lo, _mm256_extractf128_pd(v, 1));
  return _mm_cvtsd_f64(_mm_add_sd(lo, _mm_unpackhi_pd(lo, lo)));
}

// y[j] = row j of G . v for both v, four rows at a time (four streams keep the prefetchers busy
// and each load of v serves four rows).
__attribute__((target("avx2,fma"))) void product_pair_avx2(const double* g, int64_t n,
                                                           const double* v0, const double* v1,
                                                           double* y0, double* y1) {
  const int64_t vector_end = n - n % 4;
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const double* rows = g + j * n;
    __m256d acc[4][2];
    for (auto& row : acc) row[0] = row[1] = _mm256_setzero_pd();
    for (int64_t i = 0; i < vector_end; i += 4) {
      const __m256d a0 = _mm256_loadu_pd(v0 + i), a1 = _mm256_loadu_pd(v1 + i);
      for (int r = 0; r < 4; ++r) {
        const __m256d x = _mm256_loadu_pd(rows + r * n + i);
        acc[r][0] = _mm256_fmadd_pd(x, a0, acc[r][0]);
        acc[r][1] = _mm256_fmadd_pd(x, a1, acc[r][1]);
      }
    }
    for (int r = 0; r < 4; ++r) {
      double s0 = horizontal_sum(acc[r][0]), s1 = horizontal_sum(acc[r][1]);
      for (int64_t i = vector_end; i < n; ++i) {
        s0 += rows[r * n + i] * v0[i];
        s1 += rows[r * n + i] * v1[i];
      }
      y0[j + r] = s0;
      y1[j + r] = s1;
    }
  }
  for (; j < n; ++j) {
    double s0 = 0, s1 = 0;
    for (int64_t i = 0; i < n; ++i) {
      s0 += g[j * n + i] * v0[i];
      s1 += g[j * n + i] * v1[i];
    }
    y0[j] = s0;
    y1[j] = s1;
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
