#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "detail/half.h"

using ishannot::detail::float_to_half;
using ishannot::detail::half_to_float;

// Expected bit patterns worked out by hand from the binary16 layout (1 sign, 5 exponent bits
// with bias 15, 10 mantissa bits).
TEST(Half, HandValues) {
  EXPECT_EQ(float_to_half(0.0f), 0x0000);
  EXPECT_EQ(float_to_half(-0.0f), 0x8000);
  EXPECT_EQ(float_to_half(1.0f), 0x3c00);
  EXPECT_EQ(float_to_half(-2.0f), 0xc000);
  EXPECT_EQ(float_to_half(0.5f), 0x3800);
  EXPECT_EQ(float_to_half(65504.0f), 0x7bff);                 // largest finite
  EXPECT_EQ(float_to_half(6.103515625e-05f), 0x0400);         // 2^-14, smallest normal
  EXPECT_EQ(float_to_half(5.9604644775390625e-08f), 0x0001);  // 2^-24, smallest subnormal
  EXPECT_EQ(float_to_half(0.333333343f), 0x3555);
  EXPECT_EQ(float_to_half(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_EQ(float_to_half(1e6f), 0x7c00);
  EXPECT_EQ(float_to_half(65519.0f), 0x7bff);  // below the midpoint to 65536
  EXPECT_EQ(float_to_half(65520.0f), 0x7c00);  // the midpoint rounds to even = infinity
  EXPECT_TRUE((float_to_half(std::nanf("")) & 0x7fff) > 0x7c00);
}

TEST(Half, RoundsToNearestEven) {
  // Half spacing just above 1 is 2^-10. 1 + 2^-11 is a tie between 1 (even) and 1 + 2^-10.
  EXPECT_EQ(float_to_half(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
  // 1 + 3 * 2^-11 is a tie between 1 + 2^-10 (odd) and 1 + 2^-9 (even): rounds up.
  EXPECT_EQ(float_to_half(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
  // Just above the tie rounds up.
  EXPECT_EQ(float_to_half(1.0f + std::ldexp(1.0f, -11) + std::ldexp(1.0f, -20)), 0x3c01);
  // Subnormal ties: 0.5 * 2^-24 -> 0 (even), 1.5 * 2^-24 -> 2 * 2^-24.
  EXPECT_EQ(float_to_half(std::ldexp(1.0f, -25)), 0x0000);
  EXPECT_EQ(float_to_half(1.5f * std::ldexp(1.0f, -24)), 0x0002);
  // Mantissa overflow carries into the exponent: 2 - 2^-12 rounds to 2.
  EXPECT_EQ(float_to_half(2.0f - std::ldexp(1.0f, -12)), 0x4000);
}

TEST(Half, DecodesEveryPatternAndRoundTrips) {
  EXPECT_EQ(half_to_float(0x3c00), 1.0f);
  EXPECT_EQ(half_to_float(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(half_to_float(0x7bff), 65504.0f);
  EXPECT_TRUE(std::isinf(half_to_float(0xfc00)) && half_to_float(0xfc00) < 0);
  for (uint32_t bits = 0; bits < 65536; ++bits) {
    const auto h = static_cast<uint16_t>(bits);
    const float f = half_to_float(h);
    if (std::isnan(f)) continue;
    // Independent decode: (-1)^s * 2^(e-15) * (1 + m/1024), subnormal 2^-14 * m/1024.
    const int e = (bits >> 10) & 31, m = bits & 1023;
    const double sign = (bits & 0x8000) ? -1.0 : 1.0;
    if (e != 31) {
      const double ref =
          e == 0 ? sign * std::ldexp(m / 1024.0, -14) : sign * std::ldexp(1.0 + m / 1024.0, e - 15);
      ASSERT_EQ(static_cast<double>(f), ref) << bits;
    }
    ASSERT_EQ(float_to_half(f), h) << bits;
  }
}
