#pragma once
// Internal: a small, portable random generator. std::mt19937 is portable but the std::
// distributions are not (their algorithms are implementation-defined), so every draw that must be
// reproducible across platforms goes through these functions. splitmix64 (Steele et al. 2014).
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

namespace ishannot::detail {

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  /// Derives an independent stream, e.g. per image: Rng(seed).fork(index).
  static Rng stream(uint64_t seed, uint64_t index) {
    Rng r(seed ^ (0x9E3779B97F4A7C15ULL * (index + 1)));
    r.next();
    return r;
  }
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
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
