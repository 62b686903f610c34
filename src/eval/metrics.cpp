#include "ishannot/eval/metrics.h"
#include "ishannot/common/assert.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace ishannot {

namespace {

// NaN has no rank: a NaN score makes every rank-based metric undefined (and would break both the
// sort's ordering and the tie loops below, which never advance on NaN != NaN).
bool any_nan(const std::vector<double>& scores) {
  return std::any_of(scores.begin(), scores.end(), [](double s) { return std::isnan(s); });
}

}  // namespace

std::optional<double> roc_auc(const std::vector<double>& scores,
                              const std::vector<uint8_t>& labels) {
  ISHANNOT_ASSERT(scores.size() == labels.size(), "one label per score");
  if (any_nan(scores)) return std::nullopt;
  const size_t n = scores.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  // Mann-Whitney U with average ranks for ties.
  double rank_sum = 0;
  double positives = 0;
  size_t i = 0;
  while (i < n) {
    size_t j = i;
    while (j < n && scores[order[j]] == scores[order[i]]) ++j;
    const double average_rank = 0.5 * static_cast<double>(i + 1 + j);  // ranks i+1..j
    for (size_t k = i; k < j; ++k)
      if (labels[order[k]]) {
        rank_sum += average_rank;
        positives += 1;
      }
    i = j;
  }
  const double negatives = static_cast<double>(n) - positives;
  if (positives == 0 || negatives == 0) return std::nullopt;
  return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives);
}

std::vector<RocPoint> roc_curve(const std::vector<double>& scores,
                                const std::vector<uint8_t>& labels) {
  const size_t n = scores.size();
  if (any_nan(scores)) return {};
  const auto positives = static_cast<double>(std::count(labels.begin(), labels.end(), 1));
  const double negatives = static_cast<double>(n) - positives;
  if (positives == 0 || negatives == 0) return {};
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  std::vector<RocPoint> out{{std::numeric_limits<double>::infinity(), 0, 0}};
  double tp = 0, fp = 0;
  size_t i = 0;
  while (i < n) {
    size_t j = i;
    while (j < n && scores[order[j]] == scores[order[i]]) {
      (labels[order[j]] ? tp : fp) += 1;
      ++j;
    }
    out.push_back({scores[order[i]], fp / negatives, tp / positives});
    i = j;
  }
  return out;
}

std::optional<double> f1_score(const std::vector<uint8_t>& predicted,
                               const std::vector<uint8_t>& labels) {
  ISHANNOT_ASSERT(predicted.size() == labels.size(), "one label per vote");
  double tp = 0, fp = 0, fn = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    tp += predicted[i] && labels[i];
    fp += predicted[i] && !labels[i];
    fn += !predicted[i] && labels[i];
  }
  if (tp + fp + fn == 0) return std::nullopt;
  return 2 * tp / (2 * tp + fp + fn);
}

BinaryMetrics binary_metrics(const std::vector<uint8_t>& predicted,
                             const std::vector<double>& scores,
                             const std::vector<uint8_t>& labels) {
  ISHANNOT_ASSERT(predicted.size() == labels.size() && scores.size() == labels.size(),
                  "one label per vote and score");
  BinaryMetrics m;
  int tp = 0, tn = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i]) {
      ++m.positives;
      tp += predicted[i] ? 1 : 0;
    } else {
      ++m.negatives;
      tn += predicted[i] ? 0 : 1;
    }
  }
  const int n = m.positives + m.negatives;
  if (n > 0) m.accuracy = static_cast<double>(tp + tn) / n;
  if (m.positives > 0) m.sensitivity = static_cast<double>(tp) / m.positives;
  if (m.negatives > 0) m.specificity = static_cast<double>(tn) / m.negatives;
  m.auc = roc_auc(scores, labels);
  return m;
}

MeanStd mean_std(const std::vector<double>& values) {
  MeanStd out;
  out.count = static_cast<int>(values.size());
  if (values.empty()) return out;
  out.mean =
      std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
  if (values.size() > 1) {
    double ss = 0;
    for (double v : values) ss += (v - out.mean) * (v - out.mean);
    out.std = std::sqrt(ss / static_cast<double>(values.size() - 1));
  }
  return out;
}

}  // namespace ishannot
