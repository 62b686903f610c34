#pragma once
// IEEE 754 binary16 ("half") conversion, done by us rather than by HDF5's (slow, soft) converter:
// float -> half rounds to nearest, ties to even; half -> float is exact (table lookup).
#include <cstddef>
#include <cstdint>

namespace ishannot::detail {

/// float -> half, round to nearest even. NaN stays NaN, overflow (|x| >= 65520) gives +-Inf.
uint16_t float_to_half(float value);

/// half -> float (exact).
float half_to_float(uint16_t bits);

/// Converts n values; out may not alias in.
void halves_to_floats(const uint16_t* in, size_t n, float* out);

/// Largest finite half value.
constexpr float kHalfMax = 65504.0f;

}  // namespace ishannot::detail
