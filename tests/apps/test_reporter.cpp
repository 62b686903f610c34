// The CLI's progress reporter (issue 16.5): durations in the one style of common/format.h, and the
// ETA after a resume counts from the resumed position (the rate of this run's items only). The
// reporter lives in the CLI library (apps/ishannot/reporter.cpp, target ishannot_cli), which
// this test links. Reference: elapsed x remaining / done-this-run, worked here.
#include <gtest/gtest.h>

#include <cstdio>

#include "../../apps/ishannot/commands.h"

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
  double now = 100.0;  // a clock the test moves: no sleeping, no wall-clock tolerance
  const ishannot::Reporter reporter = ishannot::cli::make_reporter(options, [&now] { return now; });
  testing::internal::CaptureStderr();
  reporter.report("extract", 50, 100);  // resumed: 50 of 100 done by an earlier run
  now += 4.0;
  reporter.report("extract", 60, 100);  // 10 items in 4 s this run, 40 to go
  const std::string text = testing::internal::GetCapturedStderr();
  // This run's rate: 10 items in 4 s -> 40 more take 16 s (not 40/60 x 4 s = 2.67 s).
  EXPECT_DOUBLE_EQ(eta_seconds(text), 16.0) << text;
  EXPECT_NE(text.find(" s "), std::string::npos) << text;  // format_duration's style
  EXPECT_EQ(text.find("0:00:"), std::string::npos) << text;
}
