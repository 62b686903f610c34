#pragma once
// Two matrix-vector products with one pass over half of a large symmetric matrix (the Newton
// solver of fit_kernel_logistic needs products in pairs): memory-bound, so reading one triangle
// once for both vectors moves a quarter of the bytes of two full GEMVs. AVX2/FMA kernel chosen
// at run time, else Eigen.
#include <cstdint>

namespace ishannot::detail {

/// y0 = G v0 and y1 = G v1 for a symmetric n x n matrix G, column-major (leading dimension n), of
/// which only the entries on and above the diagonal are read (the strict lower triangle may hold
/// anything). The outputs must not alias the inputs.
void symmetric_product_pair(const double* g, int64_t n, const double* v0, const double* v1,
                            double* y0, double* y1);

/// The Eigen path, always available (reference for tests).
void symmetric_product_pair_generic(const double* g, int64_t n, const double* v0, const double* v1,
                                    double* y0, double* y1);

}  // namespace ishannot::detail
