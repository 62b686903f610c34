// Zhang et al. (KDD 2015), Table 2, as published (../shared/docs/PAPER.md).
#include "ishannot/report/paper_values.h"

namespace ishannot {

namespace {

std::vector<PaperValue> make_table() {
  static const char* const stages[] = {"4-6", "7-8", "9-10", "11-12", "13-16"};
  struct Row {
    const char* metric;
    const char* method;
    double values[5];
  };
  static const Row rows[] = {
      {"auc", "TL+MTL", {0.8493, 0.8565, 0.8695, 0.8776, 0.8824}},
      {"auc", "TL", {0.8344, 0.8401, 0.8508, 0.8702, 0.8746}},
      {"auc", "SC", {0.7687, 0.7834, 0.7921, 0.8061, 0.8105}},
      {"accuracy", "TL+MTL", {0.7938, 0.8216, 0.8318, 0.8128, 0.8327}},
      {"sensitivity", "TL+MTL", {0.7825, 0.7829, 0.7721, 0.8026, 0.8185}},
      {"specificity", "TL+MTL", {0.8436, 0.8581, 0.8422, 0.8527, 0.8716}},
  };
  std::vector<PaperValue> table;
  for (const auto& row : rows)
    for (int s = 0; s < 5; ++s) table.push_back({row.metric, row.method, stages[s], row.values[s]});
  return table;
}

}  // namespace

const std::vector<PaperValue>& paper_table2() {
  static const std::vector<PaperValue> table = make_table();
  return table;
}

const char* paper_citation() {
  return "Zhang et al., KDD 2015";
}

}  // namespace ishannot
