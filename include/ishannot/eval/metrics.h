#pragma once
// Binary classification metrics as the paper reports them: accuracy, sensitivity (recall of
// positives), specificity (recall of negatives) from hard labels (the ensemble's vote), and AUC
// from a continuous score (the ensemble's mean probability). AUC is rank-based with tied scores
// counted half, which is exactly scikit-learn's roc_auc_score.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ishannot {

/// Metrics of one term on one test set. A metric that is undefined on this set (sensitivity
/// without positives, AUC with a single class...) is empty, never NaN.
struct BinaryMetrics {
  std::optional<double> accuracy;
  std::optional<double> sensitivity;
  std::optional<double> specificity;
  std::optional<double> auc;
  int positives = 0;  ///< positives in the test set
  int negatives = 0;  ///< negatives in the test set
};

/// AUC = P(score of a random positive > score of a random negative) + 0.5 P(equal).
/// labels are 0/1 of the same length as scores. Empty when one class is absent or a score is NaN.
std::optional<double> roc_auc(const std::vector<double>& scores,
                              const std::vector<uint8_t>& labels);

/// One point of the ROC curve.
struct RocPoint {
  double threshold;  ///< predicted positive when score >= threshold
  double fpr;
  double tpr;
};

/// ROC points at every distinct score (descending), preceded by (threshold +inf, 0, 0).
/// Empty when one class is absent or a score is NaN.
std::vector<RocPoint> roc_curve(const std::vector<double>& scores,
                                const std::vector<uint8_t>& labels);

/// All four metrics: predicted (0/1 votes) for accuracy/sensitivity/specificity, scores for AUC.
BinaryMetrics binary_metrics(const std::vector<uint8_t>& predicted,
                             const std::vector<double>& scores, const std::vector<uint8_t>& labels);

/// F1 of the positive class from 0/1 predictions: 2 TP / (2 TP + FP + FN). Empty when there is no
/// positive among the labels and the predictions (0/0). The mean over terms is the macro-F1 that
/// the bag-learning literature reports.
std::optional<double> f1_score(const std::vector<uint8_t>& predicted,
                               const std::vector<uint8_t>& labels);

/// Mean and sample standard deviation (n - 1; 0 for a single value) of some values.
struct MeanStd {
  double mean = 0;
  double std = 0;
  int count = 0;
};
MeanStd mean_std(const std::vector<double>& values);

}  // namespace ishannot
