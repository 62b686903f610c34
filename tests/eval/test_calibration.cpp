// Calibration (eval/calibration.h): Platt scaling and pool-adjacent-violators against values
// worked by hand and against naive references (gradient descent on Platt's likelihood; the
// max-min formula of isotonic regression), Brier and ECE by hand, the call rule, and calibration
// lowering the Brier score of held-out data whose raw scores crowd around 0.5.
#include "ishannot/eval/calibration.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

#include "detail/rng.h"
#include "ishannot/common/error.h"

using namespace ishannot;

namespace {

double sigmoid(double z) {
  return 1 / (1 + std::exp(-z));
}

// Naive isotonic fit at each point: max over lower ends j, min over upper ends k, of the mean
// label of the unique scores j..k (Barlow et al. 1972), on the points' unique sorted scores.
std::map<double, double> naive_isotonic(const std::vector<double>& s,
                                        const std::vector<uint8_t>& y) {
  std::map<double, std::pair<double, double>> by_score;  // score -> (label sum, count)
  for (size_t i = 0; i < s.size(); ++i) {
    by_score[s[i]].first += y[i];
    by_score[s[i]].second += 1;
  }
  std::vector<double> u, sum, n;
  for (const auto& [score, v] : by_score) {
    u.push_back(score);
    sum.push_back(v.first);
    n.push_back(v.second);
  }
  std::map<double, double> fit;
  for (size_t i = 0; i < u.size(); ++i) {
    double best = -1;
    for (size_t j = 0; j <= i; ++j) {
      double lowest = 2;
      for (size_t k = i; k < u.size(); ++k) {
        double a = 0, b = 0;
        for (size_t m = j; m <= k; ++m) {
          a += sum[m];
          b += n[m];
        }
        lowest = std::min(lowest, a / b);
      }
      best = std::max(best, lowest);
    }
    fit[u[i]] = best;
  }
  return fit;
}

}  // namespace

TEST(Calibration, PlattByHandOnTwoPoints) {
  // Logits -1 and +1, labels 0 and 1: Platt's targets 1/3 and 2/3 are met exactly by
  // sigmoid(a x + b) with b = 0, a = ln 2.
  const auto c = fit_platt({sigmoid(-1), sigmoid(1)}, {0, 1});
  ASSERT_EQ(c.method, CalibrationMethod::kPlatt);
  EXPECT_NEAR(c.a, std::log(2.0), 1e-8);
  EXPECT_NEAR(c.b, 0.0, 1e-8);
  EXPECT_NEAR(c.apply(sigmoid(1)), 2.0 / 3, 1e-8);
  EXPECT_EQ(c.samples, 2);
}

TEST(Calibration, PlattMatchesGradientDescentOnItsLikelihood) {
  detail::Rng rng = detail::Rng::from_derived(11);
  std::vector<double> s;
  std::vector<uint8_t> y;
  for (int i = 0; i < 300; ++i) {
    const bool positive = rng.uniform() < 0.25;
    s.push_back(sigmoid(0.4 * (positive ? 1 : -1) + 0.5 * rng.normal()));
    y.push_back(positive);
  }
  const auto c = fit_platt(s, y);
  // Reference: plain gradient descent on the same objective (Platt's smoothed targets).
  const double pos = std::count(y.begin(), y.end(), 1), neg = static_cast<double>(y.size()) - pos;
  double a = 0, b = 0;
  for (int iter = 0; iter < 200000; ++iter) {
    double ga = 0, gb = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      const double x = std::log(s[i] / (1 - s[i]));
      const double t = y[i] ? (pos + 1) / (pos + 2) : 1 / (neg + 2);
      const double d = sigmoid(a * x + b) - t;
      ga += d * x;
      gb += d;
    }
    a -= 0.02 * ga / static_cast<double>(s.size()) * 10;
    b -= 0.02 * gb / static_cast<double>(s.size()) * 10;
  }
  EXPECT_NEAR(c.a, a, 1e-4);
  EXPECT_NEAR(c.b, b, 1e-4);
}

TEST(Calibration, IsotonicByHand) {
  // Scores .1 .2 .3 .4, labels 0 1 0 1: the violators .2/.3 pool into one block of value 0.5.
  const auto c = fit_isotonic({0.3, 0.1, 0.4, 0.2}, {0, 0, 1, 1});
  ASSERT_EQ(c.method, CalibrationMethod::kIsotonic);
  EXPECT_EQ(c.knots, (std::vector<double>{0.1, 0.2, 0.3, 0.4}));
  EXPECT_EQ(c.values, (std::vector<double>{0.0, 0.5, 0.5, 1.0}));
  EXPECT_DOUBLE_EQ(c.apply(0.25), 0.5);     // inside the block
  EXPECT_NEAR(c.apply(0.15), 0.25, 1e-12);  // halfway between blocks
  EXPECT_DOUBLE_EQ(c.apply(0.05), 0.0);     // below all scores
  EXPECT_DOUBLE_EQ(c.apply(0.9), 1.0);      // above
  // Tied scores are one block: (0.5: 1, 0.5: 0) -> 0.5.
  const auto tied = fit_isotonic({0.5, 0.5, 0.7}, {1, 0, 1});
  EXPECT_EQ(tied.knots, (std::vector<double>{0.5, 0.7}));
  EXPECT_EQ(tied.values, (std::vector<double>{0.5, 1.0}));
}

TEST(Calibration, IsotonicMatchesTheMaxMinFormula) {
  detail::Rng rng = detail::Rng::from_derived(5);
  std::vector<double> s;
  std::vector<uint8_t> y;
  for (int i = 0; i < 60; ++i) {
    const double score = std::round(rng.uniform() * 30) / 30;  // ties on purpose
    s.push_back(score);
    y.push_back(rng.uniform() < score);
  }
  const auto c = fit_isotonic(s, y);
  for (const auto& [score, value] : naive_isotonic(s, y))
    EXPECT_NEAR(c.apply(score), value, 1e-12) << score;
}

TEST(Calibration, OneClassGivesNoCalibration) {
  EXPECT_EQ(fit_platt({0.2, 0.4}, {0, 0}).method, CalibrationMethod::kNone);
  EXPECT_EQ(fit_isotonic({0.2, 0.4}, {1, 1}).method, CalibrationMethod::kNone);
  EXPECT_TRUE(std::isnan(fit_isotonic({}, {}).apply(0.3)));
  EXPECT_THROW(fit_platt({0.2}, {0, 1}), Error);
  EXPECT_THROW(parse_calibration_method("beta"), Error);
}

TEST(Calibration, BrierAndEceByHand) {
  const std::vector<double> p = {0.1, 0.9, 0.8, 0.3};
  const std::vector<uint8_t> y = {0, 1, 0, 1};
  EXPECT_NEAR(brier_score(p, y), (0.01 + 0.01 + 0.64 + 0.49) / 4, 1e-15);
  // One image per bin: ECE = mean |p - y| = (0.1 + 0.1 + 0.8 + 0.7) / 4.
  EXPECT_NEAR(expected_calibration_error(p, y), 0.425, 1e-12);
  const auto bins = reliability_bins(p, y, 2);  // [0, .5): 0.1, 0.3; [.5, 1]: 0.9, 0.8
  ASSERT_EQ(bins.size(), 2u);
  EXPECT_EQ(bins[0].count, 2);
  EXPECT_NEAR(bins[0].mean_probability, 0.2, 1e-15);
  EXPECT_NEAR(bins[0].fraction_positive, 0.5, 1e-15);
  EXPECT_NEAR(bins[1].mean_probability, 0.85, 1e-15);
  EXPECT_NEAR(expected_calibration_error(p, y, 2), (2 * 0.3 + 2 * 0.35) / 4, 1e-12);
}

TEST(Calibration, CallRule) {
  const CallBand band{0.2, 0.8, 0.7};
  EXPECT_EQ(call_of(0.81, true, band), "yes");
  EXPECT_EQ(call_of(0.8, true, band), "uncertain");
  EXPECT_EQ(call_of(0.19, true, band), "no");
  EXPECT_EQ(call_of(0.99, false, band), "uncertain");  // not validated
  EXPECT_EQ(call_of(std::nan(""), true, band), "uncertain");
  EXPECT_EQ((CallBand{0.9, 0.1, 0.7}).check().empty(), false);
}

TEST(Calibration, LowersTheBrierScoreOfHeldOutScores) {
  // Scores of an under-sampled ensemble: centred on 0.5 whatever the base rate (20 %).
  detail::Rng rng = detail::Rng::from_derived(3);
  auto draw = [&](int n, std::vector<double>& s, std::vector<uint8_t>& y) {
    for (int i = 0; i < n; ++i) {
      const bool positive = rng.uniform() < 0.2;
      s.push_back(sigmoid(0.8 * (positive ? 1 : -1) + 0.6 * rng.normal()));
      y.push_back(positive);
    }
  };
  std::vector<double> fit_s, test_s;
  std::vector<uint8_t> fit_y, test_y;
  draw(400, fit_s, fit_y);
  draw(400, test_s, test_y);
  const double raw = brier_score(test_s, test_y);
  for (auto method : {CalibrationMethod::kPlatt, CalibrationMethod::kIsotonic}) {
    const auto c = fit_calibration(method, fit_s, fit_y);
    std::vector<double> p;
    for (double s : test_s) p.push_back(c.apply(s));
    EXPECT_LT(brier_score(p, test_y), raw - 0.02) << calibration_method_name(method);
    EXPECT_LT(expected_calibration_error(p, test_y), expected_calibration_error(test_s, test_y))
        << calibration_method_name(method);
  }
}
