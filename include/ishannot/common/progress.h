#pragma once
// Progress and log reporting. The library never prints (docs/STYLE.md 5): long operations take a
// Reporter and call it; the CLI installs one that draws a bar on a terminal or writes periodic
// plain lines otherwise. A default-constructed Reporter is silent.
#include <cstdint>
#include <functional>
#include <string>

namespace ishannot {

struct Reporter {
  /// Called as work advances: stage name, items done, items total (0 = unknown).
  std::function<void(const std::string& stage, int64_t done, int64_t total)> progress;
  /// Informational line (what was skipped and why, what was chosen...). No trailing newline.
  std::function<void(const std::string& line)> log;

  void report(const std::string& stage, int64_t done, int64_t total) const {
    if (progress) progress(stage, done, total);
  }
  void info(const std::string& line) const {
    if (log) log(line);
  }
};

}  // namespace ishannot
