// seconds_since_process_start (process_clock.h): /proc/self/stat field 22 is the start time in
// clock ticks after boot, on the clock CLOCK_BOOTTIME reads.
#include "ishannot/common/process_clock.h"

#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace ishannot {

double seconds_since_process_start() {
  std::ifstream in("/proc/self/stat");
  std::string stat;
  if (!std::getline(in, stat)) return -1;
  // Field 2 (the command name) is in parentheses and may hold spaces: count from after it.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(stat.substr(close + 1));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
    if (i < 22) continue;
    const long ticks_per_second = sysconf(_SC_CLK_TCK);
    timespec now{};
    if (ticks_per_second <= 0 || clock_gettime(CLOCK_BOOTTIME, &now) != 0) return -1;
    const double started =
        std::strtod(field.c_str(), nullptr) / static_cast<double>(ticks_per_second);
    return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec) - started;
  }
  return -1;
}

}  // namespace ishannot
