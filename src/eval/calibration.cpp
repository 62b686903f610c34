// Calibration (calibration.h): Platt scaling, isotonic regression by pool-adjacent-violators, the
// Brier score, reliability bins and ECE, and the yes / no / uncertain call.
#include "ishannot/eval/calibration.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "ishannot/common/enum_names.h"
#include "ishannot/common/error.h"

namespace ishannot {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double clamped_logit(double s) {
  s = std::clamp(s, 1e-6, 1 - 1e-6);
  return std::log(s / (1 - s));
}

double sigmoid(double z) {
  return z >= 0 ? 1 / (1 + std::exp(-z)) : std::exp(z) / (1 + std::exp(z));
}

// Negative log-likelihood of targets t under p = sigmoid(a x + b), computed stably.
double platt_loss(const std::vector<double>& x, const std::vector<double>& t, double a, double b) {
  double loss = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double z = a * x[i] + b;  // -log sigmoid(z) = log(1 + e^-z)
    const double log1pexp_neg = z >= 0 ? std::log1p(std::exp(-z)) : -z + std::log1p(std::exp(z));
    loss += t[i] * log1pexp_neg + (1 - t[i]) * (z + log1pexp_neg);
  }
  return loss;
}

bool both_classes(const std::vector<uint8_t>& labels) {
  const auto pos = std::count(labels.begin(), labels.end(), uint8_t{1});
  return pos > 0 && pos < static_cast<std::ptrdiff_t>(labels.size());
}

void check_sizes(const std::vector<double>& scores, const std::vector<uint8_t>& labels) {
  if (scores.size() != labels.size())
    throw Error("calibration: " + std::to_string(scores.size()) + " scores but " +
                std::to_string(labels.size()) + " labels");
}

}  // namespace

constexpr EnumName<CalibrationMethod> kCalibrationNames[] = {
    {CalibrationMethod::kPlatt, "platt"},
    {CalibrationMethod::kIsotonic, "isotonic"},
    {CalibrationMethod::kNone, "none"}};

CalibrationMethod parse_calibration_method(const std::string& name) {
  return parse_enum(kCalibrationNames, name, "calibration");
}

std::string calibration_method_name(CalibrationMethod method) {
  return enum_name(kCalibrationNames, method);
}

double Calibration::apply(double score) const {
  if (!std::isfinite(score)) return kNaN;
  if (method == CalibrationMethod::kPlatt) return sigmoid(a * clamped_logit(score) + b);
  if (method != CalibrationMethod::kIsotonic || knots.empty()) return kNaN;
  if (score <= knots.front()) return values.front();
  if (score >= knots.back()) return values.back();
  const auto hi = static_cast<size_t>(std::upper_bound(knots.begin(), knots.end(), score) -
                                      knots.begin());  // knots[hi-1] <= score < knots[hi]
  const double w = (score - knots[hi - 1]) / (knots[hi] - knots[hi - 1]);
  return values[hi - 1] + w * (values[hi] - values[hi - 1]);
}

Calibration fit_platt(const std::vector<double>& scores, const std::vector<uint8_t>& labels) {
  check_sizes(scores, labels);
  Calibration c;
  c.samples = static_cast<int64_t>(scores.size());
  if (!both_classes(labels)) return c;
  const double pos = static_cast<double>(std::count(labels.begin(), labels.end(), uint8_t{1}));
  const double neg = static_cast<double>(labels.size()) - pos;
  std::vector<double> x(scores.size()), t(scores.size());
  for (size_t i = 0; i < x.size(); ++i) {
    x[i] = clamped_logit(scores[i]);
    t[i] = labels[i] ? (pos + 1) / (pos + 2) : 1 / (neg + 2);
  }
  double a = 1, b = std::log((pos + 1) / (neg + 1)), loss = platt_loss(x, t, a, b);
  for (int iter = 0; iter < 100; ++iter) {
    double ga = 0, gb = 0, haa = 1e-12, hab = 0, hbb = 1e-12;  // gradient and Hessian
    for (size_t i = 0; i < x.size(); ++i) {
      const double p = sigmoid(a * x[i] + b), d = p - t[i], w = p * (1 - p);
      ga += d * x[i];
      gb += d;
      haa += w * x[i] * x[i];
      hab += w * x[i];
      hbb += w;
    }
    if (std::abs(ga) < 1e-10 && std::abs(gb) < 1e-10) break;
    const double det = haa * hbb - hab * hab;
    const double da = -(hbb * ga - hab * gb) / det, db = -(haa * gb - hab * ga) / det;
    double step = 1;
    while (step > 1e-10) {  // backtracking: never increase the loss
      const double next = platt_loss(x, t, a + step * da, b + step * db);
      if (next <= loss + 1e-4 * step * (ga * da + gb * db)) {
        a += step * da;
        b += step * db;
        loss = next;
        break;
      }
      step /= 2;
    }
    if (step <= 1e-10) break;
  }
  c.method = CalibrationMethod::kPlatt;
  c.a = a;
  c.b = b;
  return c;
}

Calibration fit_isotonic(const std::vector<double>& scores, const std::vector<uint8_t>& labels) {
  check_sizes(scores, labels);
  Calibration c;
  c.samples = static_cast<int64_t>(scores.size());
  if (!both_classes(labels)) return c;
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t i, size_t j) { return scores[i] < scores[j]; });
  struct Block {
    double score_min, score_max, label_sum, count;
  };
  std::vector<Block> blocks;
  for (size_t k = 0; k < order.size();) {
    // Tied scores enter as one block (all of them before any pooling).
    const double s = scores[order[k]];
    Block block{s, s, 0, 0};
    for (; k < order.size() && scores[order[k]] == s; ++k) {
      block.label_sum += labels[order[k]];
      block.count += 1;
    }
    blocks.push_back(block);
    // Pool adjacent violators: merge while the last block's mean is below its predecessor's.
    while (blocks.size() >= 2) {
      const Block& last = blocks.back();
      const Block& prev = blocks[blocks.size() - 2];
      if (prev.label_sum / prev.count <= last.label_sum / last.count) break;
      Block merged{prev.score_min, last.score_max, prev.label_sum + last.label_sum,
                   prev.count + last.count};
      blocks.pop_back();
      blocks.back() = merged;
    }
  }
  for (const auto& block : blocks) {  // a block is flat from its lowest to its highest score
    c.knots.push_back(block.score_min);
    c.values.push_back(block.label_sum / block.count);
    if (block.score_max > block.score_min) {
      c.knots.push_back(block.score_max);
      c.values.push_back(c.values.back());
    }
  }
  c.method = CalibrationMethod::kIsotonic;
  return c;
}

Calibration fit_calibration(CalibrationMethod method, const std::vector<double>& scores,
                            const std::vector<uint8_t>& labels) {
  if (method == CalibrationMethod::kPlatt) return fit_platt(scores, labels);
  if (method == CalibrationMethod::kIsotonic) return fit_isotonic(scores, labels);
  check_sizes(scores, labels);
  Calibration c;
  c.samples = static_cast<int64_t>(scores.size());
  return c;
}

double brier_score(const std::vector<double>& probabilities, const std::vector<uint8_t>& labels) {
  check_sizes(probabilities, labels);
  if (probabilities.empty()) return kNaN;
  double sum = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    const double d = probabilities[i] - labels[i];
    sum += d * d;
  }
  return sum / static_cast<double>(labels.size());
}

std::vector<ReliabilityBin> reliability_bins(const std::vector<double>& probabilities,
                                             const std::vector<uint8_t>& labels, int bins) {
  check_sizes(probabilities, labels);
  if (bins < 1) throw Error("reliability bins must be >= 1");
  std::vector<ReliabilityBin> out(static_cast<size_t>(bins));
  std::vector<double> p_sum(out.size(), 0), y_sum(out.size(), 0);
  for (int k = 0; k < bins; ++k) {
    out[static_cast<size_t>(k)].lo = static_cast<double>(k) / bins;
    out[static_cast<size_t>(k)].hi = static_cast<double>(k + 1) / bins;
  }
  for (size_t i = 0; i < labels.size(); ++i) {
    const double p = probabilities[i];
    if (!std::isfinite(p)) continue;
    const int k = std::clamp(static_cast<int>(p * bins), 0, bins - 1);
    ++out[static_cast<size_t>(k)].count;
    p_sum[static_cast<size_t>(k)] += p;
    y_sum[static_cast<size_t>(k)] += labels[i];
  }
  for (size_t k = 0; k < out.size(); ++k) {
    const auto n = static_cast<double>(out[k].count);
    out[k].mean_probability = out[k].count ? p_sum[k] / n : kNaN;
    out[k].fraction_positive = out[k].count ? y_sum[k] / n : kNaN;
  }
  return out;
}

double expected_calibration_error(const std::vector<double>& probabilities,
                                  const std::vector<uint8_t>& labels, int bins) {
  const auto rel = reliability_bins(probabilities, labels, bins);
  int64_t total = 0;
  double sum = 0;
  for (const auto& bin : rel) {
    total += bin.count;
    if (bin.count)
      sum +=
          static_cast<double>(bin.count) * std::abs(bin.mean_probability - bin.fraction_positive);
  }
  return total ? sum / static_cast<double>(total) : kNaN;
}

std::string CallBand::check() const {
  if (!(low >= 0 && low <= high && high <= 1))
    return "the no-call band must be LOW,HIGH with 0 <= LOW <= HIGH <= 1";
  if (!(min_auc >= 0 && min_auc <= 1)) return "the minimum AUC must be in [0, 1]";
  return "";
}

std::string call_of(double probability, bool validated, const CallBand& band) {
  if (!validated || !std::isfinite(probability)) return "uncertain";
  if (probability > band.high) return "yes";
  if (probability < band.low) return "no";
  return "uncertain";
}

}  // namespace ishannot
