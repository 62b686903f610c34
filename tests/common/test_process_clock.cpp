// seconds_since_process_start against a sleep of known length: a forked child (a new process,
// started at the fork) sleeps 300 ms, then reads the clock and sends the value to its parent.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "ishannot/common/process_clock.h"

using namespace ishannot;

TEST(ProcessClock, AChildThatSleptThreeTenthsOfASecondSaysSo) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const double seconds = seconds_since_process_start();
    _exit(write(fds[1], &seconds, sizeof seconds) == sizeof seconds ? 0 : 1);
  }
  close(fds[1]);
  double seconds = -2;
  const ssize_t got = read(fds[0], &seconds, sizeof seconds);
  close(fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_EQ(got, static_cast<ssize_t>(sizeof seconds));
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  // One clock tick (10 ms) of resolution below; a loaded machine may add to the sleep above.
  EXPECT_GE(seconds, 0.28);
  EXPECT_LE(seconds, 3.0);
  // This process has run at least as long as the child's sleep.
  EXPECT_GE(seconds_since_process_start(), 0.28);
}
