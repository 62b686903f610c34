#pragma once
// C = A B^T for row-major float panels (the inner product of the Gram matrix), with a
// hand-written AVX2/FMA kernel chosen at run time when the CPU has it (the default build targets
// plain x86-64, where Eigen's GEMM uses SSE2 only), else Eigen.
#include <cstdint>

namespace ishannot::detail {

/// c (ni x nj, row-major, dense) = a (ni x w, row stride lda) * b (nj x w, row stride ldb)^T.
void tile_product(const float* a, int64_t lda, const float* b, int64_t ldb, int64_t ni, int64_t nj,
                  int64_t w, float* c);

/// Whether tile_product uses the AVX2/FMA kernel on this machine.
bool tile_product_uses_avx2();

/// c (ni x nj, row-major, row stride ldc) = alpha a (ni x w, row stride lda) * b (nj x w, row
/// stride ldb)^T + beta c, by oneDNN's sgemm (its JIT kernels: AVX-512 or AVX2 as the CPU has;
/// measured ~90 % of the AVX-512 FMA peak on one core at 1024 x 1024 x 8192,
/// docs/bench/classifier.md); runs on the calling thread when called inside an OpenMP parallel
/// region. Only where sgemm_available().
void sgemm_product(const float* a, int64_t lda, const float* b, int64_t ldb, int64_t ni, int64_t nj,
                   int64_t w, float* c, int64_t ldc, float alpha = 1.0f, float beta = 0.0f);

/// Whether this build has oneDNN (ISHANNOT_HAVE_ONEDNN) and ISHANNOT_GEMM_KERNEL is not "tiles"
/// (the switch that measures and tests the path without it). Where true, the Gram and the float
/// Cholesky use sgemm_product; else tile_product.
bool sgemm_available();

/// The Eigen path, always available (reference for tests).
void tile_product_generic(const float* a, int64_t lda, const float* b, int64_t ldb, int64_t ni,
                          int64_t nj, int64_t w, float* c);

}  // namespace ishannot::detail
