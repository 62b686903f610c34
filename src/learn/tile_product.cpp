#include "learn/tile_product.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cstdlib>
#include <string>

#include "ishannot/common/assert.h"
#include "ishannot/common/error.h"

#ifdef ISHANNOT_HAVE_ONEDNN
#include <oneapi/dnnl/dnnl.h>
#endif

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define ISHANNOT_HAVE_AVX2_KERNEL 1
#endif

namespace ishannot::detail {

void tile_product_generic(const float* a, int64_t lda, const float* b, int64_t ldb, int64_t ni,
                          int64_t nj, int64_t w, float* c) {
  using Panel =
      Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, 0,
                 Eigen::OuterStride<>>;
  Panel pa(a, ni, w, Eigen::OuterStride<>(lda));
  Panel pb(b, nj, w, Eigen::OuterStride<>(ldb));
  Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> pc(c, ni, nj);
  pc.noalias() = pa * pb.transpose();
}

#ifdef ISHANNOT_HAVE_AVX2_KERNEL
namespace {

__attribute__((target("avx2,fma"))) inline float horizontal_sum(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
  lo = _mm_add_ps(lo, hi);
  lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
  lo = _mm_add_ss(lo, _mm_shuffle_ps(lo, lo, 1));
  return _mm_cvtss_f32(lo);
}

// c += a b^T over k in [k0, k1) (k1 - k0 a multiple of 8), 4 x 3 register blocks.
__attribute__((target("avx2,fma"))) void kernel_avx2(const float* a, int64_t lda, const float* b,
                                                     int64_t ldb, int64_t ni, int64_t nj,
                                                     int64_t k0, int64_t k1, float* c) {
  int64_t i = 0;
  for (; i + 4 <= ni; i += 4) {
    int64_t j = 0;
    for (; j + 3 <= nj; j += 3) {
      __m256 acc[4][3];
      for (auto& row : acc)
        for (auto& v : row) v = _mm256_setzero_ps();
      const float* a0 = a + i * lda;
      const float* b0 = b + j * ldb;
      for (int64_t k = k0; k < k1; k += 8) {
        const __m256 bv0 = _mm256_loadu_ps(b0 + k), bv1 = _mm256_loadu_ps(b0 + ldb + k),
                     bv2 = _mm256_loadu_ps(b0 + 2 * ldb + k);
        for (int r = 0; r < 4; ++r) {
          const __m256 av = _mm256_loadu_ps(a0 + r * lda + k);
          acc[r][0] = _mm256_fmadd_ps(av, bv0, acc[r][0]);
          acc[r][1] = _mm256_fmadd_ps(av, bv1, acc[r][1]);
          acc[r][2] = _mm256_fmadd_ps(av, bv2, acc[r][2]);
        }
      }
      for (int r = 0; r < 4; ++r)
        for (int s = 0; s < 3; ++s) c[(i + r) * nj + j + s] += horizontal_sum(acc[r][s]);
    }
    for (; j < nj; ++j)
      for (int r = 0; r < 4; ++r) {
        __m256 acc = _mm256_setzero_ps();
        for (int64_t k = k0; k < k1; k += 8)
          acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + (i + r) * lda + k),
                                _mm256_loadu_ps(b + j * ldb + k), acc);
        c[(i + r) * nj + j] += horizontal_sum(acc);
      }
  }
  for (; i < ni; ++i)
    for (int64_t j = 0; j < nj; ++j) {
      __m256 acc = _mm256_setzero_ps();
      for (int64_t k = k0; k < k1; k += 8)
        acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + i * lda + k), _mm256_loadu_ps(b + j * ldb + k),
                              acc);
      c[i * nj + j] += horizontal_sum(acc);
    }
}

void tile_product_avx2(const float* a, int64_t lda, const float* b, int64_t ldb, int64_t ni,
                       int64_t nj, int64_t w, float* c) {
  std::fill(c, c + ni * nj, 0.0f);
  // k blocks of 512 floats: a 4-row panel stays in L1, the b panel in L2.
  constexpr int64_t kBlock = 512;
  const int64_t vector_end = w - w % 8;
  for (int64_t k0 = 0; k0 < vector_end; k0 += kBlock)
    kernel_avx2(a, lda, b, ldb, ni, nj, k0, std::min(vector_end, k0 + kBlock), c);
  for (int64_t k = vector_end; k < w; ++k)  // the last w % 8 columns
    for (int64_t i = 0; i < ni; ++i)
      for (int64_t j = 0; j < nj; ++j) c[i * nj + j] += a[i * lda + k] * b[j * ldb + k];
}

}  // namespace
#endif

bool sgemm_available() {
#ifdef ISHANNOT_HAVE_ONEDNN
  const char* kernel = std::getenv("ISHANNOT_GEMM_KERNEL");  // read per call: tests switch it
  return kernel == nullptr || std::string(kernel) != "tiles";
#else
  return false;
#endif
}

void sgemm_product(const float* a, int64_t lda, const float* b, int64_t ldb, int64_t ni, int64_t nj,
                   int64_t w, float* c, int64_t ldc, float alpha, float beta) {
#ifdef ISHANNOT_HAVE_ONEDNN
  const dnnl_status_t status = dnnl_sgemm('N', 'T', ni, nj, w, alpha, a, lda, b, ldb, beta, c, ldc);
  if (status != dnnl_success)
    throw Error("gram: oneDNN sgemm failed (status " + std::to_string(static_cast<int>(status)) +
                ") on a " + std::to_string(ni) + " x " + std::to_string(nj) + " x " +
                std::to_string(w) + " product");
#else
  ISHANNOT_ASSERT(false, "sgemm_product without oneDNN: check sgemm_available() first");
#endif
}

bool tile_product_uses_avx2() {
#ifdef ISHANNOT_HAVE_AVX2_KERNEL
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
#else
  return false;
#endif
}

void tile_product(const float* a, int64_t lda, const float* b, int64_t ldb, int64_t ni, int64_t nj,
                  int64_t w, float* c) {
#ifdef ISHANNOT_HAVE_AVX2_KERNEL
  if (tile_product_uses_avx2()) {
    tile_product_avx2(a, lda, b, ldb, ni, nj, w, c);
    return;
  }
#endif
  tile_product_generic(a, lda, b, ldb, ni, nj, w, c);
}

}  // namespace ishannot::detail
