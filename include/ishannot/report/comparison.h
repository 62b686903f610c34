#pragma once
// Evaluate runs side by side: what the report's Table 2 and Figures 3-7 are computed from.
//
// A *method* is the `method` column of metrics.tsv (TL, TL+MTL, SC...). Runs may split one method
// over several folders (e.g. one run per layer): they are merged. When two runs give the same
// method, layer and stage range, the later one is renamed "METHOD (FOLDER)" (noted), so nothing
// is averaged across runs by accident.
//
// Numbers follow the paper and `evaluate`'s summary (eval/evaluation.h summarise()): per term the
// mean (and std) over outer folds; per method x layer x stage range the mean +- std over terms of
// those per-term means. The layer shown for a method in Table 2 and Figures 5-7 is, per stage
// range, the one with the best mean AUC over terms (the paper reports its best layer, 21), unless
// fixed with ComparisonParams::layers.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "ishannot/eval/evaluation.h"
#include "ishannot/report/run_outputs.h"

namespace ishannot {

/// One term's results for one method, layer and stage range: each metric over the outer folds.
struct TermResult {
  std::string method, layer, stage_range, term;
  std::map<std::string, MeanStd> metrics;  ///< "auc", "accuracy", "sensitivity", "specificity"
};

struct ComparisonParams {
  std::map<std::string, std::string> layers;  ///< method -> layer shown (default: best mean AUC)
};

/// The evaluate runs of a report, merged and summarised.
struct Comparison {
  std::vector<std::string> methods;                        ///< in the order of the runs
  std::map<std::string, std::vector<std::string>> layers;  ///< per method, in evaluated order
  std::vector<std::string> stage_ranges;                   ///< with results, biological order
  std::vector<SummaryRow> summary;                         ///< summarise() of every metric row
  std::vector<TermResult> terms;                           ///< per method, layer, stage, term
  /// (method, stage range) -> the layer shown in Table 2 and Figures 5-7.
  std::map<std::pair<std::string, std::string>, std::string> shown_layer;
  std::vector<std::string> notes;  ///< renamed methods, fixed layers, mismatches (for the report)

  /// The summary row, or nullptr.
  const SummaryRow* find(const std::string& method, const std::string& layer,
                         const std::string& stage_range, const std::string& metric) const;
  /// The layer shown for a method in a stage range, "" when the method has no result there.
  std::string layer_shown(const std::string& method, const std::string& stage_range) const;
  /// Terms with results for a method, layer and stage range (sorted).
  std::vector<std::string> terms_of(const std::string& method, const std::string& layer,
                                    const std::string& stage_range) const;
  /// Methods with a result in a stage range (in method order).
  std::vector<std::string> methods_in(const std::string& stage_range) const;
  /// The terms every method of a stage range has at its shown layer (sorted): what Figures 5-7
  /// compare. Terms only some methods have are listed in `notes`.
  std::vector<std::string> shared_terms(const std::string& stage_range) const;
  /// What Figures 5 and 6 compare in a stage range: per method (in methods_in order), its
  /// per-term results at its shown layer over shared_terms(stage_range), those with an AUC.
  std::vector<std::pair<std::string, std::vector<const TermResult*>>> compared_terms(
      const std::string& stage_range) const;
};

/// Merges and summarises the runs (renaming clashing methods in `runs`, in every table). Error
/// when params.layers names a method or layer that no run has.
Comparison compare_runs(std::vector<EvaluationRun>& runs, const ComparisonParams& params = {});

}  // namespace ishannot
