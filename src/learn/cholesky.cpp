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

// One row of the forward solve: x[i] -= L[i, :i] . x[:i], then x[i] /= L[i, i] (both sides).
__attribute__((target("avx2,fma"))) void forward_row(const float* row, int64_t i, float* x0,
                                                     float* x1) {
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

// One row of the backward solve (L^T, by row updates): x[j] /= L[j, j], x[:j] -= L[j, :j] x[j].
__attribute__((target("avx2,fma"))) void backward_row(const float* row, int64_t j, float* x0,
                                                      float* x1) {
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

// The forward solve of rows [0, blocked), four rows at a time: rows i0..i0+3 left of column i0
// feed eight dot products (one load of x per four rows), then their 4 x 4 triangle.
__attribute__((target("avx2,fma"))) void forward_blocks(const float* l, int64_t blocked,
                                                        int64_t lda, float* x0, float* x1) {
  for (int64_t i0 = 0; i0 < blocked; i0 += 4) {
    const float* row[4] = {l + i0 * lda, l + (i0 + 1) * lda, l + (i0 + 2) * lda,
                           l + (i0 + 3) * lda};
    __m256 acc0[4], acc1[4];
    for (int r = 0; r < 4; ++r) acc0[r] = acc1[r] = _mm256_setzero_ps();
    int64_t k = 0;
    for (; k + 8 <= i0; k += 8) {
      const __m256 u0 = _mm256_loadu_ps(x0 + k), u1 = _mm256_loadu_ps(x1 + k);
      for (int r = 0; r < 4; ++r) {
        const __m256 a = _mm256_loadu_ps(row[r] + k);
        acc0[r] = _mm256_fmadd_ps(a, u0, acc0[r]);
        acc1[r] = _mm256_fmadd_ps(a, u1, acc1[r]);
      }
    }
    float d0[4], d1[4];
    for (int r = 0; r < 4; ++r) {
      d0[r] = horizontal_sum(acc0[r]);
      d1[r] = horizontal_sum(acc1[r]);
    }
    for (; k < i0; ++k)
      for (int r = 0; r < 4; ++r) {
        d0[r] += row[r][k] * x0[k];
        d1[r] += row[r][k] * x1[k];
      }
    for (int r = 0; r < 4; ++r) {
      const int64_t i = i0 + r;
      for (int64_t c = i0; c < i; ++c) {
        d0[r] += row[r][c] * x0[c];
        d1[r] += row[r][c] * x1[c];
      }
      x0[i] = (x0[i] - d0[r]) / row[r][i];
      x1[i] = (x1[i] - d1[r]) / row[r][i];
    }
  }
}

// The backward solve of rows [0, blocked) once the rows below are done, four rows at a time:
// rows j0..j0+3 solve their 4 x 4 triangle, then x[:j0] -= sum_r L[j0 + r, :j0] x[j0 + r] in one
// pass over x, the four updates in two FMA chains (one chain of four bound the loop by latency).
__attribute__((target("avx2,fma"))) void backward_blocks(const float* l, int64_t blocked,
                                                         int64_t lda, float* x0, float* x1) {
  for (int64_t j0 = blocked - 4; j0 >= 0; j0 -= 4) {
    const float* row[4] = {l + j0 * lda, l + (j0 + 1) * lda, l + (j0 + 2) * lda,
                           l + (j0 + 3) * lda};
    for (int r = 3; r >= 0; --r) {  // the 4 x 4 triangle
      const int64_t j = j0 + r;
      x0[j] /= row[r][j];
      x1[j] /= row[r][j];
      for (int64_t c = j0; c < j; ++c) {
        x0[c] -= row[r][c] * x0[j];
        x1[c] -= row[r][c] * x1[j];
      }
    }
    __m256 b0[4], b1[4];
    for (int r = 0; r < 4; ++r) {
      b0[r] = _mm256_set1_ps(x0[j0 + r]);
      b1[r] = _mm256_set1_ps(x1[j0 + r]);
    }
    int64_t k = 0;
    for (; k + 8 <= j0; k += 8) {
      __m256 a[4];
      for (int r = 0; r < 4; ++r) a[r] = _mm256_loadu_ps(row[r] + k);
      const __m256 p0 = _mm256_fmadd_ps(a[1], b0[1], _mm256_mul_ps(a[0], b0[0]));
      const __m256 q0 = _mm256_fmadd_ps(a[3], b0[3], _mm256_mul_ps(a[2], b0[2]));
      const __m256 p1 = _mm256_fmadd_ps(a[1], b1[1], _mm256_mul_ps(a[0], b1[0]));
      const __m256 q1 = _mm256_fmadd_ps(a[3], b1[3], _mm256_mul_ps(a[2], b1[2]));
      _mm256_storeu_ps(x0 + k, _mm256_sub_ps(_mm256_loadu_ps(x0 + k), _mm256_add_ps(p0, q0)));
      _mm256_storeu_ps(x1 + k, _mm256_sub_ps(_mm256_loadu_ps(x1 + k), _mm256_add_ps(p1, q1)));
    }
    for (; k < j0; ++k)
      for (int r = 0; r < 4; ++r) {
        x0[k] -= row[r][k] * x0[j0 + r];
        x1[k] -= row[r][k] * x1[j0 + r];
      }
  }
}
// Both right-hand sides in one pass over the factor per triangular solve, four rows at a time
// (four streams from memory: 8.0 -> 5.1 ms at n = 4,700 against one row at a time), the last
// n % 4 rows one by one.
__attribute__((target("avx2,fma"))) void solve_pair_avx2(const float* l, int64_t n, int64_t lda,
                                                         float* x0, float* x1) {
  const int64_t blocked = n - n % 4;
  forward_blocks(l, blocked, lda, x0, x1);
  for (int64_t i = blocked; i < n; ++i) forward_row(l + i * lda, i, x0, x1);
  for (int64_t j = n - 1; j >= blocked; --j) backward_row(l + j * lda, j, x0, x1);
  backward_blocks(l, blocked, lda, x0, x1);
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
