#pragma once
// The outer folds of the paper's protocol, in one place. `evaluate` tests fold F on the genes of
// fold F; `finetune --fold F/K`, `baseline --fold F/K` and `train --fold F/K` learn from the genes
// outside it. All four get their folds from outer_folds() below, so they agree whenever they are
// given the same dataset, stage range, term selection (--top-k, --view, --exclude), fold count and
// --seed.
#include <cstdint>
#include <string>
#include <vector>

#include "ishannot/data/dataset.h"
#include "ishannot/data/terms.h"

namespace ishannot {

/// Outer fold F of K, as written on the command line ("F/K", F as in evaluate's fold column).
struct FoldSpec {
  int fold = 0;   ///< F, 0-based
  int folds = 0;  ///< K >= 2
};

/// Parses "F/K" with 0 <= F < K and K >= 2. Throws Error quoting `text` otherwise.
FoldSpec parse_fold_spec(const std::string& text);

/// Reads a gene list: one gene per line; '#' starts a comment; blank lines are ignored and
/// surrounding whitespace is trimmed. Throws Error naming the file when it cannot be read or lists
/// no gene.
std::vector<std::string> read_gene_list(const std::string& path);

struct OuterFoldParams {
  int folds = 5;              ///< K of the grouped k-fold
  uint64_t seed = 1234;       ///< the run's --seed (the stage range's seed is derived from it)
  TermSelectionParams terms;  ///< the terms that stratify the folds
  std::string check() const;
};

/// A stage range's problem and its outer folds.
struct OuterFolds {
  StageProblem problem;            ///< select_terms(dataset, stage range, params.terms)
  std::vector<std::string> genes;  ///< per problem row
  std::vector<int> fold;           ///< per problem row, in [0, folds)
  int folds = 0;

  /// Problem rows in fold f (its test rows) / outside fold f (its training rows).
  std::vector<int> rows_in(int f) const;
  std::vector<int> rows_outside(int f) const;
  /// Sorted, unique genes of those rows.
  std::vector<std::string> genes_in(int f) const;
  std::vector<std::string> genes_outside(int f) const;
};

/// The seed of a stage range's outer folds.
uint64_t outer_fold_seed(uint64_t seed, const std::string& stage_range);

/// Term selection, then the stratified grouped k-fold of the stage range's genes (splits.h),
/// seeded with outer_fold_seed. Throws Error when the stage range has no image (select_terms) or
/// fewer genes than folds.
OuterFolds outer_folds(const Dataset& dataset, const std::string& stage_range,
                       const OuterFoldParams& params);

/// Rows of `problem` whose gene is listed. Throws Error when none is.
std::vector<int> rows_of_genes(const Dataset& dataset, const StageProblem& problem,
                               const std::vector<std::string>& genes);

}  // namespace ishannot
