// validation.tsv and reliability.tsv of an annotate run (detail/annotate_validation.h).
#include "annotate/annotate_validation.h"

#include <cmath>
#include <sstream>

#include "ishannot/common/format.h"
#include "ishannot/common/output_columns.h"
#include "ishannot/data/dataset.h"
#include "ishannot/eval/calibration.h"
#include "ishannot/eval/metrics.h"

namespace ishannot::detail {

namespace {

std::string number_or_empty(double v) {
  return std::isfinite(v) ? format_exact(v) : "";
}

std::string ratio(int64_t a, int64_t b) {
  return b > 0 ? format_exact(static_cast<double>(a) / static_cast<double>(b)) : "";
}

// One validation.tsv row (after the key columns) for some items.
std::string row(const std::vector<ValidationItem>& items, bool validated) {
  std::vector<double> scores, probabilities;
  std::vector<uint8_t> truth, truth_p;
  int64_t yes = 0, no = 0, uncertain = 0, positives = 0, true_yes = 0, votes = 0, true_votes = 0;
  for (const auto& it : items) {
    scores.push_back(it.score);
    truth.push_back(it.truth);
    positives += it.truth;
    if (std::isfinite(it.probability)) {
      probabilities.push_back(it.probability);
      truth_p.push_back(it.truth);
    }
    if (it.call == "yes") {
      ++yes;
      true_yes += it.truth;
    } else if (it.call == "no") {
      ++no;
    } else {
      ++uncertain;
    }
    votes += it.predicted;
    if (it.predicted) true_votes += it.truth;
  }
  const auto auc = roc_auc(scores, truth);
  std::ostringstream out;
  out << (validated ? 1 : 0) << '\t' << items.size() << '\t' << positives << '\t'
      << (auc ? format_exact(*auc) : "") << '\t' << yes << '\t' << no << '\t' << uncertain << '\t'
      << ratio(true_yes, yes) << '\t' << ratio(true_yes, positives) << '\t'
      << ratio(true_votes, votes) << '\t' << ratio(true_votes, positives) << '\t'
      << number_or_empty(brier_score(probabilities, truth_p)) << '\t'
      << number_or_empty(expected_calibration_error(probabilities, truth_p)) << '\n';
  return out.str();
}

}  // namespace

void ValidationTable::add(const std::string& level, const std::string& stage,
                          const std::string& term, bool validated, const ValidationItem& item) {
  const Key key{level, stage_order(stage), stage, term};
  items_[key].push_back(item);
  validated_[key] = validated;
}

std::string ValidationTable::validation_tsv() const {
  std::ostringstream out;
  out << tsv_header(OutputKind::kAnnotate, "validation.tsv");
  // Per term, then 'all' (every term of the level and stage range pooled) after its terms.
  std::map<std::tuple<std::string, int, std::string>, std::vector<ValidationItem>> pooled;
  std::map<std::tuple<std::string, int, std::string>, bool> any_validated;
  for (const auto& [key, items] : items_) {
    const auto& [level, order, stage, term] = key;
    out << level << '\t' << stage << '\t' << order << '\t' << term << '\t'
        << row(items, validated_.at(key));
    auto& all = pooled[{level, order, stage}];
    all.insert(all.end(), items.begin(), items.end());
    any_validated[{level, order, stage}] |= validated_.at(key);
  }
  for (const auto& [key, items] : pooled) {
    const auto& [level, order, stage] = key;
    out << level << '\t' << stage << '\t' << order << "\tall\t"
        << row(items, any_validated.at(key));
  }
  return out.str();
}

std::string ValidationTable::reliability_tsv() const {
  std::ostringstream out;
  out << tsv_header(OutputKind::kAnnotate, "reliability.tsv");
  std::map<std::tuple<std::string, int, std::string>,
           std::pair<std::vector<double>, std::vector<uint8_t>>>
      pooled;
  for (const auto& [key, items] : items_) {
    auto& [p, y] = pooled[{std::get<0>(key), std::get<1>(key), std::get<2>(key)}];
    for (const auto& it : items)
      if (std::isfinite(it.probability)) {
        p.push_back(it.probability);
        y.push_back(it.truth);
      }
  }
  for (const auto& [key, py] : pooled)
    for (const auto& bin : reliability_bins(py.first, py.second, 10))
      out << std::get<0>(key) << '\t' << std::get<2>(key) << '\t' << std::get<1>(key) << '\t'
          << format_exact(bin.lo) << '\t' << format_exact(bin.hi) << '\t' << bin.count << '\t'
          << number_or_empty(bin.mean_probability) << '\t' << number_or_empty(bin.fraction_positive)
          << '\n';
  return out.str();
}

}  // namespace ishannot::detail
