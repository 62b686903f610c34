#include "detail/half.h"

#include <cmath>
#include <cstring>
#include <vector>

namespace ishannot::detail {

uint16_t float_to_half(float value) {
  uint32_t x = 0;
  std::memcpy(&x, &value, sizeof x);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t magnitude = x & 0x7fffffffu;
  if (magnitude >= 0x7f800000u)  // Inf or NaN (keep NaN quiet and non-zero)
    return static_cast<uint16_t>(sign | 0x7c00u | (magnitude > 0x7f800000u ? 0x200u : 0u));
  if (magnitude >= 0x477ff000u)  // >= 65520 rounds to infinity
    return static_cast<uint16_t>(sign | 0x7c00u);
  if (magnitude < 0x38800000u) {  // below 2^-14: half subnormal (or zero)
    float a = 0.0f;
    std::memcpy(&a, &magnitude, sizeof a);
    // a * 2^24 is exact; nearbyint rounds ties to even in the default rounding mode. A result of
    // 1024 is the encoding of the smallest normal half, so no special case is needed.
    const auto m = static_cast<uint32_t>(std::nearbyint(a * 16777216.0f));
    return static_cast<uint16_t>(sign | m);
  }
  const uint32_t exponent = (magnitude >> 23) - 127 + 15;
  const uint32_t mantissa = magnitude & 0x7fffffu;
  uint32_t h = (exponent << 10) | (mantissa >> 13);
  const uint32_t rest = mantissa & 0x1fffu;
  // A carry out of the mantissa correctly increments the exponent.
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;
  return static_cast<uint16_t>(sign | h);
}

float half_to_float(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1fu;
  const uint32_t mantissa = bits & 0x3ffu;
  uint32_t x = 0;
  if (exponent == 0) {
    const float v = static_cast<float>(mantissa) * 5.9604644775390625e-08f;  // 2^-24
    return sign ? -v : v;
  }
  if (exponent == 31)
    x = sign | 0x7f800000u | (mantissa << 13);
  else
    x = sign | ((exponent + 112) << 23) | (mantissa << 13);
  float out = 0.0f;
  std::memcpy(&out, &x, sizeof out);
  return out;
}

namespace {
const std::vector<float>& half_table() {
  static const std::vector<float> table = [] {
    std::vector<float> t(65536);
    for (uint32_t i = 0; i < 65536; ++i) t[i] = half_to_float(static_cast<uint16_t>(i));
    return t;
  }();
  return table;
}
}  // namespace

void halves_to_floats(const uint16_t* in, size_t n, float* out) {
  const float* table = half_table().data();
  for (size_t i = 0; i < n; ++i) out[i] = table[in[i]];
}

}  // namespace ishannot::detail
