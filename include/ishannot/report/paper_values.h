#pragma once
// The published results the report shows beside ours: Zhang et al., "Deep Model Based Transfer
// and Multi-Task Learning for Biological Image Analysis", KDD 2015, Table 2 (mean over terms;
// the paper gives stds of 0.02-0.04 but not per cell). Embedded here because users have no copy
// of the paper's table; its stage range 13-17 is BDGP's 13-16.
#include <string>
#include <vector>

namespace ishannot {

/// One published cell: metric ("auc", "accuracy", "sensitivity", "specificity"), method ("TL",
/// "TL+MTL", "SC"), stage range (normalised), mean over terms.
struct PaperValue {
  std::string metric, method, stage_range;
  double mean = 0;
};

/// The paper's Table 2: AUC for TL+MTL, TL and SC; accuracy, sensitivity and specificity for
/// TL+MTL; stage ranges 4-6, 7-8, 9-10, 11-12, 13-16.
const std::vector<PaperValue>& paper_table2();

/// The source named wherever these values appear ("Zhang et al., KDD 2015").
const char* paper_citation();

}  // namespace ishannot
