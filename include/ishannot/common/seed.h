#pragma once
// The one seed scheme (docs/STYLE.md 3: one seed drives every random choice).
//
// Every random choice of the project descends from the user's --seed through derive_seed: a
// splitmix64 hash of the seed and a path of identifiers, e.g.
//   derive_seed(seed, {stream(SeedStream::kOuterFolds), stage_index})
// so the same inputs give the same numbers on every platform, with any thread count, in any order
// of work. Draws are made with detail::Rng (src/detail/rng.h), a splitmix64 generator with its own
// uniform/integer/normal draws, whose only constructors go through derive_seed (a named stream, or
// a seed a caller derived); tests/common/test_seed_golden.cpp pins the first numbers. std::
// distributions are never used: their algorithms are implementation-defined and give other
// numbers with another standard library.
#include <cstdint>
#include <initializer_list>

namespace ishannot {

/// splitmix64's output function (Steele, Lea & Flood 2014): a bijective 64-bit mixer.
constexpr uint64_t mix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// A seed for one stream of random choices, derived from `seed` and a path of identifiers.
/// Different paths give independent-looking seeds; the order of the identifiers matters.
uint64_t derive_seed(uint64_t seed, std::initializer_list<uint64_t> ids);

/// The root streams: the first identifier of a derive_seed path names what the stream is for, so
/// that no two purposes can share numbers by accident. Append new streams at the end.
enum class SeedStream : uint64_t {
  kOuterFolds = 1,           ///< evaluate's grouped k-fold of a stage range (then: stage index)
  kEvaluationTask = 2,       ///< one (stage, term, fold) task: inner CV and ensemble members
  kInnerFolds = 3,           ///< inner grouped folds, from the seed of the split they refine
  kValidationSplit = 4,      ///< fine-tuning's validation genes
  kTrainingOrder = 5,        ///< fine-tuning: mini-batch order per epoch
  kAugment = 6,              ///< fine-tuning: augmentation per image and epoch
  kDropout = 7,              ///< fine-tuning: dropout masks
  kCacheAugment = 8,         ///< fine-tuning: cached trunk variants
  kTrainModel = 9,           ///< `train`: C selection and ensemble of one (stage, term)
  kAttentionMil = 10,        ///< attention MIL: initial weights, validation genes, batch order
  kScImageChoice = 11,       ///< SC dictionary: which training images give descriptors
  kScDescriptorChoice = 12,  ///< SC dictionary: which descriptors of an image (then: image index)
  kDictionaryInit = 13,      ///< dictionary learning: k-means++ sample order and seeding
  kDictionaryOrder = 14,     ///< dictionary learning: mini-batch order
  kSynthGroup = 15,          ///< synthetic data: one group's seed (then: group index)
  kSynthImage = 16,          ///< synthetic data: one image's seed (then: image index)
  kSynthPlan = 17,           ///< synthetic data: the built-in group plan (then: stage range index)
  kSynthLike = 18,           ///< synthetic data: `--like` group choice (then: stage range index)
};

/// The identifier of a root stream in a derive_seed path.
constexpr uint64_t stream(SeedStream s) {
  return static_cast<uint64_t>(s);
}

/// derive_seed(seed, {stream(purpose), ids...}): the seed of one purpose's stream.
uint64_t derive_seed(uint64_t seed, SeedStream purpose, std::initializer_list<uint64_t> ids = {});

}  // namespace ishannot
