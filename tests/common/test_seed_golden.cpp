// The seed scheme's promise (common/seed.h): the same numbers on every platform. Golden values
// pin mix64, derive_seed and the first draws of detail::Rng. References: splitmix64's published
// first output for state 0 (0xe220a8397b1dcdaf, Vigna's splitmix64.c), the rest computed with an
// independent Python implementation of the same definitions (64-bit wrap-around arithmetic):
//   mix(z): z += 0x9e3779b97f4a7c15; z = (z ^ z>>30) * 0xbf58476d1ce4e5b9;
//           z = (z ^ z>>27) * 0x94d049bb133111eb; return z ^ z>>31
//   derive(seed, ids): h = mix(seed); for id in ids: h = mix(h ^ mix(id))
#include <gtest/gtest.h>

#include <type_traits>

#include "detail/rng.h"
#include "ishannot/common/seed.h"

namespace ishannot {
namespace {

TEST(SeedGolden, Mix64MatchesSplitmix64) {
  EXPECT_EQ(mix64(0), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(mix64(1234), 0xbb0cf61b2f181cdbULL);
}

TEST(SeedGolden, DeriveSeedPaths) {
  EXPECT_EQ(derive_seed(1234, {}), 0xbb0cf61b2f181cdbULL);
  EXPECT_EQ(derive_seed(1234, {stream(SeedStream::kOuterFolds), 0}), 0x79029315327cec45ULL);
  EXPECT_EQ(derive_seed(1234, {stream(SeedStream::kEvaluationTask), 3, 7}), 0xf4b0d0df35d7fcd4ULL);
}

TEST(SeedGolden, FirstDrawsOfAStream) {
  detail::Rng rng(1234, SeedStream::kOuterFolds, {0});
  EXPECT_EQ(rng.next(), 0x1ed0e8e76b4f1fb2ULL);
  EXPECT_EQ(rng.next(), 0xf920a87e7d065abfULL);
  EXPECT_EQ(rng.next(), 0x5cefa249448ddf45ULL);
  detail::Rng other(42, SeedStream::kTrainModel, {5});
  EXPECT_DOUBLE_EQ(other.uniform(), 0.9344131537083872);
  EXPECT_EQ(other.below(10), 5u);
}

// The only ways to a generator go through derive_seed: a raw seed does not compile.
static_assert(!std::is_constructible_v<detail::Rng, uint64_t>);
static_assert(!std::is_convertible_v<uint64_t, detail::Rng>);

TEST(SeedGolden, NamedStreamsOfTheSparseAndSyntheticModules) {
  EXPECT_EQ(derive_seed(1234, SeedStream::kSynthImage, {5}), 0xcce504552f731a50ULL);
  detail::Rng sc(1234, SeedStream::kScImageChoice);
  EXPECT_EQ(sc.next(), 0x6e871af7a95b7cf2ULL);
  EXPECT_EQ(sc.next(), 0x77f3f73fd305fb59ULL);
  // A generator handed a derived seed: a sub-stream of it (synth's per-group draws).
  detail::Rng sub = detail::Rng::from_derived(derive_seed(99, SeedStream::kSynthGroup, {3}), {7});
  EXPECT_EQ(sub.next(), 0x7a74f4a0885d4d1aULL);
  // The SC dictionary's image choice and the dictionary's k-means draw from distinct streams
  // (they shared the raw seed before).
  detail::Rng images(1234, SeedStream::kScImageChoice);
  detail::Rng kmeans(1234, SeedStream::kDictionaryInit);
  EXPECT_NE(images.next(), kmeans.next());
}

TEST(SeedGolden, FromDerivedWithoutIdsStartsAtTheDerivedSeed) {
  detail::Rng named(1234, SeedStream::kOuterFolds, {0});
  detail::Rng handed =
      detail::Rng::from_derived(derive_seed(1234, {stream(SeedStream::kOuterFolds), 0}));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(named.next(), handed.next());
}

}  // namespace
}  // namespace ishannot
