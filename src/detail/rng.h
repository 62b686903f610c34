#pragma once
// Internal: the project's one random generator (seed scheme: ishannot/common/seed.h). The std::
// distributions are not portable (their algorithms are implementation-defined), so every draw that
// must be reproducible across platforms goes through these functions. splitmix64 (Steele et al.
// 2014).
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <utility>
#include <vector>

#include "ishannot/common/seed.h"

namespace ishannot::detail {

/// Made in two ways only (the raw constructor is private, so a user's --seed cannot seed draws
/// directly and two purposes cannot share one stream by accident):
///   Rng(seed, SeedStream::kX, {ids...})  the stream of one purpose of the user's seed;
///   Rng::from_derived(derived, {ids...}) a generator on a seed that derive_seed already made for
///                                        one purpose and a caller handed down (a fold split's
///                                        seed, an evaluation task's seed, a synthetic group's).
class Rng {
 public:
  /// derive_seed(seed, {stream(purpose), ids...}).
  Rng(uint64_t seed, SeedStream purpose, std::initializer_list<uint64_t> ids = {})
      : state_(derive_seed(seed, purpose, ids)) {}
  /// Starts at `derived` itself when `ids` is empty (Rng(seed, p) == from_derived(derive_seed(seed,
  /// {stream(p)}))), else at derive_seed(derived, ids): an independent sub-stream, e.g. per image.
  static Rng from_derived(uint64_t derived, std::initializer_list<uint64_t> ids = {}) {
    return Rng(ids.size() == 0 ? derived : derive_seed(derived, ids));
  }
  /// splitmix64: the state advances by the golden-ratio increment, the output is its mix.
  uint64_t next() {
    const uint64_t out = mix64(state_);
    state_ += 0x9E3779B97F4A7C15ULL;
    return out;
  }
  /// Uniform in [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  /// Uniform integer in [0, n).
  uint64_t below(uint64_t n) { return n == 0 ? 0 : next() % n; }
  bool bernoulli(double p) { return uniform() < p; }
  /// Standard normal (Box-Muller).
  double normal() {
    const double u1 = 1.0 - uniform();
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  template <class T>
  void shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i)]);
  }

 private:
  explicit Rng(uint64_t state) : state_(state) {}
  uint64_t state_;
};

}  // namespace ishannot::detail
