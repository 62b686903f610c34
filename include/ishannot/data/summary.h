#pragma once
// Table-1 style summary of a dataset: per stage range, images (as listed by the source and as
// kept), groups, genes, and the positives of each selected term.
#include <string>
#include <vector>

#include "ishannot/data/dataset.h"
#include "ishannot/data/terms.h"

namespace ishannot {

struct StageSummary {
  std::string stage_range;
  int listed = 0;  ///< entries the source lists for this view (BDGP tables list a few twice)
  int images = 0;  ///< distinct images kept (the rows of the learning problem)
  int groups = 0;  ///< gene x stage-range groups
  int genes = 0;
  int terms = 0;                       ///< distinct CV terms (after exclusions)
  std::vector<std::string> top_terms;  ///< selected terms, most frequent first
  std::vector<int> positives;          ///< per selected term: images carrying it
};

/// One row per stage range present (in biological order), after the view filter of `params`;
/// `stages` restricts the ranges ("" entries ignored; empty = all present).
std::vector<StageSummary> summarise_dataset(const Dataset& dataset,
                                            const TermSelectionParams& params,
                                            const std::vector<std::string>& stages = {});

/// TSV in long form: `stage_range	item	term	value` with item = listed | images | groups
/// | genes | terms | positives (term filled only for positives).
std::string summary_tsv(const std::vector<StageSummary>& rows);

/// A readable text table (one block per stage range).
std::string summary_text(const std::vector<StageSummary>& rows, const Dataset& dataset,
                         const TermSelectionParams& params);

}  // namespace ishannot
