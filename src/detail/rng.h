#pragma once
// Internal: the project's one random generator (seed scheme: ishannot/common/seed.h). The std::
// distributions are not portable (their algorithms are implementation-defined), so every draw that
// must be reproducible across platforms goes through these functions. splitmix64 (Steele et al.
// 2014).
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "ishannot/common/seed.h"

namespace ishannot::detail {

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  /// An independent stream, e.g. per image: Rng::stream(seed, index) (seed.h's derive_seed).
  static Rng stream(uint64_t seed, uint64_t index) { return Rng(derive_seed(seed, {index})); }
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
  uint64_t state_;
};

}  // namespace ishannot::detail
