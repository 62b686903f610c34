// This CPU's fp32 peak: independent FMA chains in registers (no memory traffic), per core and on
// every core of the affinity mask, with AVX2 (8 floats) and, where the CPU has it, AVX-512 (16
// floats). The figure extraction's GFLOP/s is compared with (docs/bench/extract.md).
//
//   ishannot_fma_peak [SECONDS_PER_TEST=1]
// Prints one JSON line: avx2_gflops_1core, avx512_gflops_1core (0 when absent), the same on all
// cores of the mask, the number of those cores, and the CPU flags that matter.
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "ishannot/common/threads.h"

namespace {

// Twelve accumulators: FMA latency (4 cycles) x 2 FMA ports = 8 chains in flight at least.
constexpr int kChains = 12;
constexpr long kInner = 1 << 16;

__attribute__((target("avx2,fma"))) double chains_avx2(long rounds) {
  __m256 acc[kChains];
  for (int k = 0; k < kChains; ++k) acc[k] = _mm256_set1_ps(0.001f * static_cast<float>(k));
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (long r = 0; r < rounds; ++r)
    for (long i = 0; i < kInner; ++i)
#pragma GCC unroll 16  // keeps the chains in registers
      for (int k = 0; k < kChains; ++k) acc[k] = _mm256_fmadd_ps(acc[k], a, b);
  __m256 sum = acc[0];
  for (int k = 1; k < kChains; ++k) sum = _mm256_add_ps(sum, acc[k]);
  float out[8];
  _mm256_storeu_ps(out, sum);
  return out[0];
}

__attribute__((target("avx512f"))) double chains_avx512(long rounds) {
  __m512 acc[kChains];
  for (int k = 0; k < kChains; ++k) acc[k] = _mm512_set1_ps(0.001f * static_cast<float>(k));
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (long r = 0; r < rounds; ++r)
    for (long i = 0; i < kInner; ++i)
#pragma GCC unroll 16
      for (int k = 0; k < kChains; ++k) acc[k] = _mm512_fmadd_ps(acc[k], a, b);
  __m512 sum = acc[0];
  for (int k = 1; k < kChains; ++k) sum = _mm512_add_ps(sum, acc[k]);
  float out[16];
  _mm512_storeu_ps(out, sum);
  return out[0];
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// GFLOP/s of `threads` threads each running the chains for about `seconds`.
double gflops(bool avx512, int threads, double seconds) {
  const int width = avx512 ? 16 : 8;
  auto run = [&](long rounds) { return avx512 ? chains_avx512(rounds) : chains_avx2(rounds); };
  // Calibrate the rounds on one thread.
  long rounds = 1;
  volatile double keep = 0;  // the chains' result must be used, or the compiler drops them
  for (;;) {
    const auto t0 = std::chrono::steady_clock::now();
    keep = keep + run(rounds);
    const double s = seconds_since(t0);
    if (s > 0.05) {
      rounds = std::max(1L, static_cast<long>(rounds * seconds / s));
      break;
    }
    rounds *= 4;
  }
  std::atomic<double> sink{0};
  std::vector<std::thread> pool;
  const auto t0 = std::chrono::steady_clock::now();
  for (int t = 0; t < threads; ++t) pool.emplace_back([&] { sink = sink + run(rounds); });
  for (auto& t : pool) t.join();
  const double s = seconds_since(t0);
  if (sink.load() == 12345.0) std::printf(" ");  // keep the result alive
  return threads * static_cast<double>(rounds) * kInner * kChains * width * 2.0 / s / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 1.0;
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const bool avx512 = __builtin_cpu_supports("avx512f");
  const int cpus = ishannot::available_cpus();
  const double a2 = avx2 ? gflops(false, 1, seconds) : 0,
               a2_all = avx2 ? gflops(false, cpus, seconds) : 0;
  const double a5 = avx512 ? gflops(true, 1, seconds) : 0;
  const double a5_all = avx512 ? gflops(true, cpus, seconds) : 0;
  std::printf(
      "{\"avx2_fma\": %s, \"avx512f\": %s, \"cpus\": %d, \"avx2_gflops_1core\": %.1f, "
      "\"avx512_gflops_1core\": %.1f, \"avx2_gflops_all\": %.1f, \"avx512_gflops_all\": %.1f}\n",
      avx2 ? "true" : "false", avx512 ? "true" : "false", cpus, a2, a5, a2_all, a5_all);
  return 0;
}
