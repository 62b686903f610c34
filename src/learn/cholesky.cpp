#include "learn/cholesky.h"
#include "ishannot/common/assert.h"

#include <Eigen/Dense>
#include <algorithm>
#include <vector>

#include "learn/tile_product.h"

#if defined __x86_64__ && defined __GNUC__
#include <immintrin.h>
#define ISHANNOT_HAVE_AVX2_SOLVE 1
#endif

// Why our own blocked Cholesky rather than a library: the default build targets plain x86-64, so
// Eigen's GEMM (and with it Eigen's blocked LLT) runs SSE2 kernels, and Debian's reference
// BLAS/LAPACK are unoptimised. Here the O(n^3) part (the trailing updates, and the panels as
// products with the inverse of the small diagonal block) runs on tile_product's AVX2/FMA kernel,
// chosen at run time; only the O(n b^2) diagonal blocks go through Eigen, in double.
namespace ishannot::detail {
namespace {

using RowMajorFloat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using FloatPanel = Eigen::Map<RowMajorFloat, 0, Eigen::OuterStride<>>;

// Rows and columns of one tile of a product: the 4 x 3 micro blocks of tile_product divide it,
// and a tile of rows x 256 floats stays in L2.
constexpr int64_t kTile = 192;

// The panel and the trailing update of one block step by oneDNN's sgemm (where the build has it):
// L21 = A21 L11^-T through `product` (rest x kb), then A22 -= L21 L21^T one block of kTile rows
// at a time against every row up to its own last, straight into A22 (what lands above the
// diagonal is the documented scratch).
void update_with_sgemm(float* panel, float* trailing, int64_t lda, int64_t rest, int64_t kb,
                       const RowMajorFloat& inverse, std::vector<float>& product) {
  product.resize(static_cast<size_t>(std::max(rest * kb, kTile * kTile)));
  sgemm_product(panel, lda, inverse.data(), kb, rest, kb, kb, product.data(), kb);
  for (int64_t r = 0; r < rest; ++r) std::copy_n(product.data() + r * kb, kb, panel + r * lda);
  for (int64_t i0 = 0; i0 < rest; i0 += kTile) {
    const int64_t ni = std::min(kTile, rest - i0);
    sgemm_product(panel + i0 * lda, lda, panel, lda, ni, i0 + ni, kb, trailing + i0 * lda, lda,
                  -1.0f, 1.0f);
  }
}

#ifdef ISHANNOT_HAVE_AVX2_SOLVE
__attribute__((target("avx2,fma"))) float horizontal_sum(__m256 v) {
  __m128 lo = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
  return _mm_cvtss_f32(_mm_add_ss(lo, _mm_movehdup_ps(lo)));
}

// Both right-hand sides in one pass over the factor per triangular solve, rows read
// contiguously: forward, x[i] -= L[i, :i] . x[:i]; backward (L^T), x[:j] -= L[j, :j] x[j].
__attribute__((target("avx2,fma"))) void solve_pair_avx2(const float* l, int64_t n, int64_t lda,
                                                         float* x0, float* x1) {
  for (int64_t i = 0; i < n; ++i) {
    const float* row = l + i * lda;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t k = 0;
    for (; k + 8 <= i; k += 8) {
      const __m256 a = _mm256_loadu_ps(row + k);
      acc0 = _mm256_fmadd_ps(a, _mm256_loadu_ps(x0 + k), acc0);
      acc1 = _mm256_fmadd_ps(a, _mm256_loadu_ps(x1 + k), acc1);
    }
    float d0 = horizontal_sum(acc0), d1 = horizontal_sum(acc1);
    for (; k < i; ++k) {
      d0 += row[k] * x0[k];
      d1 += row[k] * x1[k];
    }
    x0[i] = (x0[i] - d0) / row[i];
    x1[i] = (x1[i] - d1) / row[i];
  }
  for (int64_t j = n - 1; j >= 0; --j) {
    const float* row = l + j * lda;
    x0[j] /= row[j];
    x1[j] /= row[j];
    const __m256 b0 = _mm256_set1_ps(x0[j]), b1 = _mm256_set1_ps(x1[j]);
    int64_t k = 0;
    for (; k + 8 <= j; k += 8) {
      const __m256 a = _mm256_loadu_ps(row + k);
      _mm256_storeu_ps(x0 + k, _mm256_fnmadd_ps(a, b0, _mm256_loadu_ps(x0 + k)));
      _mm256_storeu_ps(x1 + k, _mm256_fnmadd_ps(a, b1, _mm256_loadu_ps(x1 + k)));
    }
    for (; k < j; ++k) {
      x0[k] -= row[k] * x0[j];
      x1[k] -= row[k] * x1[j];
    }
  }
}
#endif

}  // namespace

bool cholesky_float(float* a, int64_t n, int64_t lda, int64_t block) {
  ISHANNOT_ASSERT(block >= 1 && lda >= n, "block >= 1, lda >= n");
  std::vector<float> product(static_cast<size_t>(kTile * std::max(kTile, block)));
  for (int64_t k0 = 0; k0 < n; k0 += block) {
    const int64_t kb = std::min(block, n - k0), rest = n - k0 - kb;
    // Diagonal block: A11 = L11 L11^T, in double.
    FloatPanel diagonal(a + k0 * lda + k0, kb, kb, Eigen::OuterStride<>(lda));
    const Eigen::MatrixXd a11 = diagonal.cast<double>();
    const Eigen::LLT<Eigen::MatrixXd, Eigen::Lower> llt(a11);
    if (llt.info() != Eigen::Success) return false;
    const Eigen::MatrixXd l11 = llt.matrixL();
    if (!l11.allFinite()) return false;  // NaN passes LLT's "pivot <= 0" test
    diagonal = l11.cast<float>();
    if (rest == 0) break;
    // Panel: L21 = A21 L11^-T, a product with the explicit inverse (its extra rounding only
    // weakens a preconditioner a little).
    const RowMajorFloat inverse =
        l11.triangularView<Eigen::Lower>().solve(Eigen::MatrixXd::Identity(kb, kb)).cast<float>();
    float* panel = a + (k0 + kb) * lda + k0;
    float* trailing = a + (k0 + kb) * lda + k0 + kb;
    if (sgemm_available()) {
      update_with_sgemm(panel, trailing, lda, rest, kb, inverse, product);
      continue;
    }
    for (int64_t i0 = 0; i0 < rest; i0 += kTile) {
      const int64_t ni = std::min(kTile, rest - i0);
      tile_product(panel + i0 * lda, lda, inverse.data(), kb, ni, kb, kb, product.data());
      for (int64_t r = 0; r < ni; ++r)
        std::copy_n(product.data() + r * kb, kb, panel + (i0 + r) * lda);
    }
    // Trailing update: A22 -= L21 L21^T, tiles on and below the diagonal.
    for (int64_t i0 = 0; i0 < rest; i0 += kTile) {
      const int64_t ni = std::min(kTile, rest - i0);
      for (int64_t j0 = 0; j0 <= i0; j0 += kTile) {
        const int64_t nj = std::min(kTile, rest - j0);
        tile_product(panel + i0 * lda, lda, panel + j0 * lda, lda, ni, nj, kb, product.data());
        for (int64_t r = 0; r < ni; ++r) {
          float* row = trailing + (i0 + r) * lda + j0;
          const float* update = product.data() + r * nj;
          for (int64_t c = 0; c < nj; ++c) row[c] -= update[c];
        }
      }
    }
  }
  return true;
}

void cholesky_float_solve(const float* l, int64_t n, int64_t lda, float* x) {
  const Eigen::Map<const RowMajorFloat, 0, Eigen::OuterStride<>> factor(l, n, n,
                                                                        Eigen::OuterStride<>(lda));
  Eigen::Map<Eigen::VectorXf> v(x, n);
  factor.triangularView<Eigen::Lower>().solveInPlace(v);
  factor.transpose().triangularView<Eigen::Upper>().solveInPlace(v);
}

void cholesky_float_solve_pair(const float* l, int64_t n, int64_t lda, float* x0, float* x1) {
#ifdef ISHANNOT_HAVE_AVX2_SOLVE
  if (tile_product_uses_avx2()) {  // the same CPU test: AVX2 and FMA
    solve_pair_avx2(l, n, lda, x0, x1);
    return;
  }
#endif
  cholesky_float_solve(l, n, lda, x0);
  cholesky_float_solve(l, n, lda, x1);
}

}  // namespace ishannot::detail
