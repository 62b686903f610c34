// --threads 0 = the CPUs of the affinity mask. The reference is the kernel's own account of the
// mask, /proc/self/status (Cpus_allowed_list), parsed here independently of sched_getaffinity; a
// child process pinned to one CPU (what `taskset -c N` does) must resolve to 1.
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "ishannot/common/error.h"
#include "ishannot/common/threads.h"

using namespace ishannot;

namespace {

// "0-3,8,10-11" -> 7; -1 when /proc is not there.
int cpus_allowed_from_proc() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Cpus_allowed_list:", 0) != 0) continue;
    std::stringstream list(line.substr(line.find(':') + 1));
    std::string range;
    int count = 0;
    while (std::getline(list, range, ',')) {
      const auto dash = range.find('-');
      const int first = std::stoi(range.substr(0, dash));
      const int last = dash == std::string::npos ? first : std::stoi(range.substr(dash + 1));
      count += last - first + 1;
    }
    return count;
  }
  return -1;
}

// The lowest CPU this process may run on.
int first_allowed_cpu() {
  cpu_set_t set;
  CPU_ZERO(&set);
  sched_getaffinity(0, sizeof set, &set);
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) return c;
  return 0;
}

}  // namespace

TEST(Threads, ZeroMeansTheAffinityMask) {
  const int reference = cpus_allowed_from_proc();
  if (reference < 0) GTEST_SKIP() << "no /proc/self/status on this system";
  EXPECT_EQ(available_cpus(), reference);
  EXPECT_EQ(resolve_threads(0), reference);
  EXPECT_EQ(resolve_threads(3), 3);
  EXPECT_THROW(resolve_threads(-1), Error);
}

TEST(Threads, OneCpuMaskResolvesToOne) {
  if (cpus_allowed_from_proc() < 0) GTEST_SKIP() << "no /proc/self/status on this system";
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // As `taskset -c N`: pin this process to one CPU, then ask both sources.
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(first_allowed_cpu(), &one);
    if (sched_setaffinity(0, sizeof one, &one) != 0) _exit(3);
    const bool ok = cpus_allowed_from_proc() == 1 && resolve_threads(0) == 1;
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "a one-CPU mask did not resolve to 1 thread";
}
