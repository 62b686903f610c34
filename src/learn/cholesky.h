#pragma once
// Cholesky factorisation in float32, blocked, for large symmetric positive definite matrices
// that only need an approximate factor: fit_kernel_logistic uses it as the preconditioner of
// conjugate gradients against the exact double operator, so its rounding never reaches the
// result. The O(n^3) panels and trailing updates run on oneDNN's sgemm where the build has it,
// else on tile_product's AVX2/FMA kernel.
#include <cstdint>

namespace ishannot::detail {

/// Columns per block step of cholesky_float; tests pass smaller blocks to exercise the edges.
constexpr int64_t kCholeskyBlock = 128;

/// Factors A = L L^T in place. `a`: n x n, row-major, row stride lda >= n; its lower triangle
/// (diagonal included) holds A on entry and L on return; the strict upper triangle is scratch
/// (overwritten with garbage). Returns false when A is not numerically positive definite in
/// float32 (a pivot <= 0 or not finite); `a` is then garbage.
bool cholesky_float(float* a, int64_t n, int64_t lda, int64_t block = kCholeskyBlock);

/// x <- (L L^T)^-1 x for a factor from cholesky_float (x: n values).
void cholesky_float_solve(const float* l, int64_t n, int64_t lda, float* x);

/// Both x0 <- (L L^T)^-1 x0 and x1 <- (L L^T)^-1 x1, reading the factor once per triangular
/// solve for the two (AVX2/FMA kernel where the CPU has it: the solves are memory-bound; else
/// two cholesky_float_solve calls). Reads only the lower triangle of `l`.
void cholesky_float_solve_pair(const float* l, int64_t n, int64_t lda, float* x0, float* x1);

}  // namespace ishannot::detail
