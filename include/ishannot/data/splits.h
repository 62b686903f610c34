#pragma once
// Splits grouped by gene: images of one gene are near duplicates, so a gene is never on both
// sides of a split. Folds are stratified as far as groups allow (every fold gets positives of
// every term when the data make it possible), seeded and reproducible.
#include <cstdint>
#include <string>
#include <vector>

namespace ishannot {

struct GroupedSplitParams {
  int folds = 5;  ///< k of k-fold (>= 2)
  /// A seed its caller derived for this split (outer_fold_seed, the inner folds' stream): the
  /// split draws from it directly (common/seed.h), so two splits never share it by accident.
  uint64_t seed = 1234;
  std::string check() const;
};

/// Assigns each item a fold in [0, folds): items with the same gene share a fold.
/// labels: items x n_terms row-major 0/1 (may be empty: plain grouped k-fold).
/// Throws Error when there are fewer genes than folds.
std::vector<int> grouped_kfold(const std::vector<std::string>& genes,
                               const std::vector<uint8_t>& labels, int n_terms,
                               const GroupedSplitParams& params);

/// Inner folds for model selection on training items only: `items` are indices into genes/labels
/// (e.g. the items of the outer training folds); returns a fold in [0, params.folds) for each of
/// them, in the order of `items`. Genes are again never split; the seed is mixed so inner folds do
/// not repeat the outer ones.
std::vector<int> grouped_inner_kfold(const std::vector<std::string>& genes,
                                     const std::vector<uint8_t>& labels, int n_terms,
                                     const std::vector<int>& items,
                                     const GroupedSplitParams& params);

}  // namespace ishannot
