#pragma once
// Calibrated probabilities from ensemble scores, and how to measure calibration.
//
// The ensemble's score (mean member probability) ranks images well but is not a probability:
// under-sampled members see balanced classes, so scores crowd around 0.5 whatever the term's
// frequency. A calibration maps a score s to the probability that the image carries the term,
// fitted on out-of-fold scores (train: evaluate's (term, fold) tasks, never the training rows of
// the scored model):
//   platt     p = sigmoid(a * logit(s) + b), a and b by maximum likelihood (Newton) on Platt's
//             smoothed targets t+ = (N+ + 1) / (N+ + 2), t- = 1 / (N- + 2) (Platt 1999), with
//             logit(s) clamped to s in [1e-6, 1 - 1e-6]
//   isotonic  the monotone (non-decreasing) least-squares fit of the labels on the scores by
//             pool-adjacent-violators (tied scores pooled first): blocks of consecutive scores
//             with one value (the block's fraction of positives); p is that value from a block's
//             lowest to its highest score, linear between blocks, and the first / last block's
//             value below / above all scores (as scikit-learn's IsotonicRegression)
//   none      no calibration (p undefined: NaN)
// Brier score = mean (p - y)^2; expected calibration error (ECE) = sum over B equal-width bins of
// p of (images in the bin / all) * |mean p - fraction positive| in the bin.
#include <cstdint>
#include <string>
#include <vector>

namespace ishannot {

enum class CalibrationMethod { kNone, kPlatt, kIsotonic };

/// "none" | "platt" | "isotonic"; Error otherwise.
CalibrationMethod parse_calibration_method(const std::string& name);
std::string calibration_method_name(CalibrationMethod method);

/// A fitted calibration of one term.
struct Calibration {
  CalibrationMethod method = CalibrationMethod::kNone;
  double a = 1, b = 0;         ///< platt
  std::vector<double> knots;   ///< isotonic: each block's lowest and highest score, increasing
  std::vector<double> values;  ///< isotonic: the value at each knot, non-decreasing
  int64_t samples = 0;         ///< out-of-fold scores it was fitted on
  /// The probability of a score (NaN for kNone).
  double apply(double score) const;
};

/// Fits a calibration on (score, 0/1 label) pairs. kNone, or fewer than one positive and one
/// negative, gives method kNone (samples still counted).
Calibration fit_calibration(CalibrationMethod method, const std::vector<double>& scores,
                            const std::vector<uint8_t>& labels);
Calibration fit_platt(const std::vector<double>& scores, const std::vector<uint8_t>& labels);
Calibration fit_isotonic(const std::vector<double>& scores, const std::vector<uint8_t>& labels);

/// Mean (p - y)^2; NaN when empty.
double brier_score(const std::vector<double>& probabilities, const std::vector<uint8_t>& labels);

/// One bin of a reliability diagram: probabilities in [lo, hi) (the last bin includes 1).
struct ReliabilityBin {
  double lo = 0, hi = 0;
  int64_t count = 0;
  double mean_probability = 0;   ///< NaN when empty
  double fraction_positive = 0;  ///< NaN when empty
};
std::vector<ReliabilityBin> reliability_bins(const std::vector<double>& probabilities,
                                             const std::vector<uint8_t>& labels, int bins = 10);
/// Expected calibration error over `bins` equal-width bins; NaN when empty.
double expected_calibration_error(const std::vector<double>& probabilities,
                                  const std::vector<uint8_t>& labels, int bins = 10);

/// The three-way call of an annotation: "yes" (p > band_high), "no" (p < band_low) or
/// "uncertain" (p within [band_low, band_high], p undefined, or the term not validated).
struct CallBand {
  double low = 0.2, high = 0.8;  ///< the no-call band (docs/ANNOTATE.md: how it was chosen)
  double min_auc = 0.7;          ///< a term is validated when its CV AUC >= this on >= 2 folds
  std::string check() const;
};
std::string call_of(double probability, bool validated, const CallBand& band);

}  // namespace ishannot
