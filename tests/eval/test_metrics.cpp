#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "ishannot/eval/metrics.h"

using namespace ishannot;

// Worked by hand: each (positive, negative) pair scores 1 if the positive is higher, 0.5 if tied.
TEST(Metrics, AucHandValues) {
  // scikit-learn's documented example: pairs (0.35>0.1, 0.35<0.4, 0.8>0.1, 0.8>0.4) = 3/4.
  EXPECT_DOUBLE_EQ(*roc_auc({0.1, 0.4, 0.35, 0.8}, {0, 0, 1, 1}), 0.75);
  // All tied: every pair counts half.
  EXPECT_DOUBLE_EQ(*roc_auc({0.5, 0.5, 0.5, 0.5}, {0, 1, 0, 1}), 0.5);
  // Positives {0.9, 0.5, 0.2}, negatives {0.9, 0.2}: 0.5 + 1 + 0 + 1 + 0 + 0.5 = 3 of 6.
  EXPECT_DOUBLE_EQ(*roc_auc({0.9, 0.9, 0.5, 0.2, 0.2}, {1, 0, 1, 0, 1}), 0.5);
  // Positives {3, 2}, negatives {2, 1, 1}: (1 + 1 + 1) + (0.5 + 1 + 1) = 5.5 of 6.
  EXPECT_DOUBLE_EQ(*roc_auc({3, 2, 2, 1, 1}, {1, 1, 0, 0, 0}), 5.5 / 6);
  // Perfectly wrong ranking.
  EXPECT_DOUBLE_EQ(*roc_auc({0.1, 0.2, 0.8, 0.9}, {1, 1, 0, 0}), 0.0);
  EXPECT_FALSE(roc_auc({0.1, 0.2}, {1, 1}).has_value());
  EXPECT_FALSE(roc_auc({}, {}).has_value());
}

TEST(Metrics, AucMatchesPairCountingOnRandomTiedScores) {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 20; ++trial) {
    const int n = 5 + trial * 7;
    std::vector<double> s(n);
    std::vector<uint8_t> y(n);
    for (int i = 0; i < n; ++i) {
      s[i] = static_cast<double>(rng() % 6);  // many ties
      y[i] = static_cast<uint8_t>(rng() % 3 == 0);
    }
    y[0] = 1;
    y[1] = 0;
    double pairs = 0, wins = 0;
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j)
        if (y[i] && !y[j]) {
          pairs += 1;
          wins += s[i] > s[j] ? 1.0 : s[i] == s[j] ? 0.5 : 0.0;
        }
    EXPECT_NEAR(*roc_auc(s, y), wins / pairs, 1e-12);
  }
}

TEST(Metrics, RocCurveHandValues) {
  // Scores 0.8(+) 0.4(-) 0.35(+) 0.1(-): thresholds inf, 0.8, 0.4, 0.35, 0.1.
  const auto roc = roc_curve({0.1, 0.4, 0.35, 0.8}, {0, 0, 1, 1});
  ASSERT_EQ(roc.size(), 5u);
  EXPECT_DOUBLE_EQ(roc[1].tpr, 0.5);
  EXPECT_DOUBLE_EQ(roc[1].fpr, 0.0);
  EXPECT_DOUBLE_EQ(roc[2].fpr, 0.5);
  EXPECT_DOUBLE_EQ(roc[3].tpr, 1.0);
  EXPECT_DOUBLE_EQ(roc[4].fpr, 1.0);
}

TEST(Metrics, AccuracySensitivitySpecificityByHand) {
  // labels 1 1 1 0 0, votes 1 0 1 0 1: TP 2, FN 1, TN 1, FP 1.
  const auto m = binary_metrics({1, 0, 1, 0, 1}, {0.9, 0.1, 0.8, 0.2, 0.7}, {1, 1, 1, 0, 0});
  EXPECT_DOUBLE_EQ(*m.accuracy, 3.0 / 5);
  EXPECT_DOUBLE_EQ(*m.sensitivity, 2.0 / 3);
  EXPECT_DOUBLE_EQ(*m.specificity, 1.0 / 2);
  // Positives {0.9, 0.1, 0.8}, negatives {0.2, 0.7}: 1 + 1 + 0 + 0 + 1 + 1 = 4 of 6.
  EXPECT_DOUBLE_EQ(*m.auc, 4.0 / 6);
  const auto only_negatives = binary_metrics({0, 1}, {0.1, 0.6}, {0, 0});
  EXPECT_FALSE(only_negatives.sensitivity.has_value());
  EXPECT_FALSE(only_negatives.auc.has_value());
  EXPECT_DOUBLE_EQ(*only_negatives.specificity, 0.5);
}

TEST(Metrics, MeanStdIsTheSampleStd) {
  const auto s = mean_std({1, 2, 3, 4});
  EXPECT_DOUBLE_EQ(s.mean, 2.5);
  EXPECT_NEAR(s.std, std::sqrt(5.0 / 3.0), 1e-15);  // sum of squares 5, n - 1 = 3
  EXPECT_EQ(mean_std({7}).std, 0.0);
}

// Issue 15.1: a NaN score made the tie loop of roc_auc spin forever (NaN != NaN, so it never
// advanced). A metric over NaN scores is undefined: empty, never a hang or a NaN.
TEST(Metrics, NanScoresGiveNoAucAndNoCurveInsteadOfHanging) {
  const double nan = std::nan("");
  EXPECT_FALSE(roc_auc({0.2, nan, 0.7}, {0, 1, 1}).has_value());
  EXPECT_FALSE(roc_auc({nan, nan, nan}, {0, 1, 0}).has_value());
  EXPECT_TRUE(roc_curve({0.2, nan, 0.4}, {0, 1, 1}).empty());
  const BinaryMetrics m = binary_metrics({0, 1, 1}, {0.1, nan, 0.9}, {0, 1, 1});
  EXPECT_FALSE(m.auc.has_value());
  EXPECT_DOUBLE_EQ(*m.accuracy, 1.0);  // the votes are still defined
}
