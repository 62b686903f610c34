#pragma once
// Internal to annotate (src/annotate/annotate_*.cpp): the calls compared with the terms the data
// carry — validation.tsv (per level, stage range and term, and pooled over a stage range's terms)
// and reliability.tsv (reliability-diagram bins per level and stage range). Columns in
// common/output_columns.h.
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace ishannot::detail {

/// One compared call: an image's (or a group's) score, probability (NaN: none), call, majority
/// vote and truth.
struct ValidationItem {
  double score = 0, probability = 0;
  std::string call;
  int predicted = 0;
  uint8_t truth = 0;
};

class ValidationTable {
 public:
  /// level: "image" or "group".
  void add(const std::string& level, const std::string& stage, const std::string& term,
           bool validated, const ValidationItem& item);
  bool empty() const { return items_.empty(); }
  std::string validation_tsv() const;   ///< with its header
  std::string reliability_tsv() const;  ///< with its header

 private:
  using Key = std::tuple<std::string, int, std::string, std::string>;  // level, order, stage, term
  std::map<Key, std::vector<ValidationItem>> items_;
  std::map<Key, bool> validated_;
};

}  // namespace ishannot::detail
