#include "ishannot/common/threads.h"

#include <sched.h>

#include "ishannot/common/error.h"

namespace ishannot {

int available_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  const int count = CPU_COUNT(&set);
  return count > 0 ? count : 1;
}

int resolve_threads(int requested) {
  if (requested < 0)
    throw Error("--threads " + std::to_string(requested) + ": expected 0 (all CPUs) or more");
  return requested > 0 ? requested : available_cpus();
}

}  // namespace ishannot
