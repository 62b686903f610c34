// Progress on stderr: a redrawn bar with ETA on a terminal, a plain line every few seconds
// otherwise (logs, Slurm), nothing with --quiet or --progress none.
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <chrono>
#include <cstdio>
#include <functional>
#include <limits>
#include <memory>

#include "commands.h"
#include "ishannot/common/format.h"
#include "ishannot/common/threads.h"
#include "ishannot/version.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace ishannot::cli {
namespace {

struct ProgressState {
  std::string stage;
  double start = 0;        // clock seconds
  double last_print = 0;   // clock seconds
  int64_t start_done = 0;  // items already done when the stage started (a resumed run)
  bool bar_open = false;
};

// One duration style everywhere (common/format.h); "?" while unknown.
std::string format_seconds(double s) {
  if (s < 0 || s > 1e7) return "?";
  return format_duration(s);
}

}  // namespace

Reporter make_reporter(const GlobalOptions& options, std::function<double()> clock) {
  if (!clock) {
    clock = [] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
          .count();
    };
  }
  Reporter reporter;
  if (options.quiet) return reporter;
  std::string mode = options.progress;
  if (mode == "auto") mode = isatty(STDERR_FILENO) ? "bar" : "plain";
  auto state = std::make_shared<ProgressState>();
  reporter.log = [state](const std::string& line) {
    if (state->bar_open) std::fputc('\n', stderr);
    state->bar_open = false;
    std::fprintf(stderr, "%s\n", line.c_str());
  };
  if (mode == "none") return reporter;
  const bool bar = mode == "bar";
  reporter.progress = [state, bar, clock](const std::string& stage, int64_t done, int64_t total) {
    const double now = clock();
    if (stage != state->stage) {
      if (state->bar_open) std::fputc('\n', stderr);
      state->bar_open = false;
      state->stage = stage;
      state->start = now;
      state->start_done = done;
      state->last_print = now - 3600;
    }
    const bool finished = total > 0 && done >= total;
    const double since_print = now - state->last_print;
    if (!finished && since_print < (bar ? 0.2 : 10.0)) return;
    state->last_print = now;
    const double elapsed = now - state->start;
    // The rate counts only this run's items: after a resume the ETA is not "0:00:00".
    const int64_t done_here = done - state->start_done;
    const double eta = done_here > 0 && total > 0 ? elapsed * static_cast<double>(total - done) /
                                                        static_cast<double>(done_here)
                                                  : -1;
    // Items per second of this run (shown when known: a download's pace, an extraction's).
    char rate[32] = "";
    if (done_here > 0 && elapsed > 0)
      std::snprintf(rate, sizeof rate, " %.1f/s", static_cast<double>(done_here) / elapsed);
    if (bar) {
      const int width = 30;
      const int filled = total > 0 ? static_cast<int>(width * done / total) : 0;
      std::string cells(filled, '#');
      cells.resize(width, '.');
      std::fprintf(stderr, "\r%s [%s] %lld/%lld%s elapsed %s eta %s ", stage.c_str(), cells.c_str(),
                   static_cast<long long>(done), static_cast<long long>(total), rate,
                   format_seconds(elapsed).c_str(), format_seconds(eta).c_str());
      state->bar_open = !finished;
      if (finished) std::fputc('\n', stderr);
    } else {
      std::fprintf(stderr, "%s: %lld/%lld%s elapsed %s eta %s\n", stage.c_str(),
                   static_cast<long long>(done), static_cast<long long>(total), rate,
                   format_seconds(elapsed).c_str(), format_seconds(eta).c_str());
    }
    std::fflush(stderr);
  };
  return reporter;
}

void reuse_freed_memory(bool one_arena) {
#ifdef __GLIBC__
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
  if (one_arena) mallopt(M_ARENA_MAX, 1);
#else
  (void)one_arena;
#endif
}

int apply_threads(const GlobalOptions& options) {
  const int threads = resolve_threads(options.threads);
#ifdef _OPENMP
  omp_set_num_threads(threads);
#endif
  return threads;
}

Provenance provenance(const GlobalOptions& options) {
  Provenance p;
  p.command_line = options.command_line;
  p.seed = options.seed;
  return p;
}

}  // namespace ishannot::cli
