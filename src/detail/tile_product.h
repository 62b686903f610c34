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

/// The Eigen path, always available (reference for tests).
void tile_product_generic(const float* a, int64_t lda, const float* b, int64_t ldb, int64_t ni,
                          int64_t nj, int64_t w, float* c);

}  // namespace ishannot::detail
