// Pooling against values worked out by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "ishannot/common/error.h"
#include "ishannot/sparse/spatial_pooling.h"

using namespace ishannot;

namespace {

// Three descriptors on 2 atoms in a 4x4 image: d0 at (1,1) top-left with a = (0.5, -0.2),
// d1 at (3,1) top-right with a = (-1, 0), d2 at (3,3) bottom-right with a = (0, 0) (low contrast).
SparseCodes example() {
  SparseCodes c;
  c.atoms = 2;
  c.index = {0, 1, 0};
  c.value = {0.5f, -0.2f, -1.0f};
  c.start = {0, 2, 3, 3};
  return c;
}

}  // namespace

TEST(SpatialPooling, MaxAverageSqrtByHand) {
  const std::vector<float> x = {1, 3, 3}, y = {1, 1, 3};
  PyramidParams pyr;
  pyr.levels = {{1, 1}, {2, 2}};
  pyr.l2_normalise = false;
  ASSERT_EQ(pyr.cells(), 5);
  // Level 1 (all three): max |a| = (1, 0.2); mean |a| = (1.5/3, 0.2/3);
  // sqrt mean a^2 = (sqrt(1.25/3), sqrt(0.04/3)). Level 2 cells: TL = {d0}, TR = {d1},
  // BL = {}, BR = {d2}.
  const auto mx = pool_codes(example(), x, y, 4, 4, pyr, PoolingKind::kMax);
  const std::vector<float> want_max = {1, 0.2f, 0.5f, 0.2f, 1, 0, 0, 0, 0, 0};
  ASSERT_EQ(mx.size(), want_max.size());
  for (size_t i = 0; i < mx.size(); ++i) EXPECT_FLOAT_EQ(mx[i], want_max[i]) << i;
  const auto av = pool_codes(example(), x, y, 4, 4, pyr, PoolingKind::kAverage);
  const std::vector<float> want_avg = {0.5f, 0.2f / 3, 0.5f, 0.2f, 1, 0, 0, 0, 0, 0};
  for (size_t i = 0; i < av.size(); ++i) EXPECT_NEAR(av[i], want_avg[i], 1e-7) << i;
  const auto sq = pool_codes(example(), x, y, 4, 4, pyr, PoolingKind::kSqrtMeanSquare);
  const std::vector<float> want_sqrt = {
      std::sqrt(1.25f / 3), std::sqrt(0.04f / 3), 0.5f, 0.2f, 1, 0, 0, 0, 0, 0};
  for (size_t i = 0; i < sq.size(); ++i) EXPECT_NEAR(sq[i], want_sqrt[i], 1e-7) << i;
}

TEST(SpatialPooling, L2NormalisationAndBlankImages) {
  const std::vector<float> x = {1, 3, 3}, y = {1, 1, 3};
  PyramidParams pyr;
  pyr.levels = {{1, 1}};
  const auto mx = pool_codes(example(), x, y, 4, 4, pyr, PoolingKind::kMax);
  EXPECT_NEAR(mx[0], 1 / std::sqrt(1.04), 1e-6);
  EXPECT_NEAR(mx[1], 0.2 / std::sqrt(1.04), 1e-6);
  SparseCodes blank;
  blank.atoms = 2;
  blank.start = {0, 0};
  const auto z = pool_codes(blank, {2}, {2}, 4, 4, pyr, PoolingKind::kMax);
  EXPECT_EQ(z, std::vector<float>({0, 0}));
}

TEST(SpatialPooling, BadInputThrows) {
  PyramidParams pyr;
  pyr.levels = {{0, 0}};
  EXPECT_NE(pyr.check(), "");
  EXPECT_THROW(pool_codes(example(), {1, 2, 3}, {1, 2, 3}, 4, 4, pyr, PoolingKind::kMax), Error);
  EXPECT_THROW(pool_codes(example(), {1}, {1}, 4, 4, PyramidParams{}, PoolingKind::kMax), Error);
  EXPECT_THROW(parse_pooling_kind("median"), Error);
}
