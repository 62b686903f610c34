// The CLI's progress reporter (issue 16.5): durations in the one style of common/format.h, and the
// ETA after a resume counts from the resumed position (the rate of this run's items only). The
// reporter lives in the app (apps/ishannot/reporter.cpp), which no library target holds: it is
// compiled into this test directly. Reference: elapsed x remaining / done-this-run, worked here.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "../../apps/ishannot/reporter.cpp"

namespace {

// The number before " s" after "eta " in a bar line ("... eta 1.23 s ").
double eta_seconds(const std::string& text) {
  const size_t at = text.rfind("eta ");
  return at == std::string::npos ? -1 : std::atof(text.c_str() + at + 4);
}

}  // namespace

TEST(Reporter, EtaAfterAResumeCountsOnlyThisRunsItems) {
  ishannot::cli::GlobalOptions options;
  options.progress = "bar";
  const ishannot::Reporter reporter = ishannot::cli::make_reporter(options);
  testing::internal::CaptureStderr();
  reporter.report("extract", 50, 100);  // resumed: 50 of 100 done by an earlier run
  const auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  reporter.report("extract", 60, 100);  // 10 items in this run, 40 to go
  const std::string text = testing::internal::GetCapturedStderr();
  // This run's rate: 10 items in `elapsed` -> 40 more take 4 x elapsed (not 40/60 x elapsed).
  const double eta = eta_seconds(text);
  EXPECT_NEAR(eta, 4 * elapsed, 0.35 * 4 * elapsed) << text;
  EXPECT_NE(text.find(" s "), std::string::npos) << text;  // format_duration's style
  EXPECT_EQ(text.find("0:00:"), std::string::npos) << text;
}
