// The validation split of fine-tuning: the allowed rows (the training genes of an outer fold,
// data/folds.h) split again by gene.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>

#include "ishannot/common/error.h"
#include "ishannot/common/seed.h"
#include "ishannot/data/splits.h"
#include "ishannot/learn/ensemble.h"
#include "ishannot/nets/finetune.h"

namespace ishannot {

namespace {

std::vector<std::string> genes_of_rows(const Dataset& dataset, const StageProblem& problem,
                                       const std::vector<int>& rows) {
  std::vector<std::string> genes;
  for (int r : rows)
    genes.push_back(
        dataset.images[static_cast<size_t>(problem.image_indices[static_cast<size_t>(r)])].gene);
  return genes;
}

std::vector<uint8_t> labels_of_rows(const StageProblem& problem, const std::vector<int>& rows) {
  std::vector<uint8_t> labels;
  for (int r : rows)
    for (size_t t = 0; t < problem.terms.size(); ++t)
      labels.push_back(problem.label(r, static_cast<int>(t)));
  return labels;
}

}  // namespace

void split_validation(const Dataset& dataset, const StageProblem& problem,
                      const std::vector<int>& allowed_rows, double val_fraction, uint64_t seed,
                      std::vector<int>* train_rows, std::vector<int>* val_rows) {
  train_rows->clear();
  val_rows->clear();
  if (val_fraction <= 0) {
    *train_rows = allowed_rows;
    return;
  }
  GroupedSplitParams inner;
  inner.folds = std::max(2, static_cast<int>(std::lround(1.0 / val_fraction)));
  inner.seed = derive_seed(seed, {stream(SeedStream::kValidationSplit)});
  // grouped_inner_kfold indexes genes/labels by item: pass the allowed rows' own.
  std::vector<int> items(allowed_rows.size());
  for (size_t i = 0; i < items.size(); ++i) items[i] = static_cast<int>(i);
  std::vector<int> fold_of;
  try {
    fold_of = grouped_inner_kfold(genes_of_rows(dataset, problem, allowed_rows),
                                  labels_of_rows(problem, allowed_rows),
                                  static_cast<int>(problem.terms.size()), items, inner);
  } catch (const Error& e) {
    throw Error("validation split of the training genes (--val-fraction " +
                std::to_string(val_fraction) + "): " + e.what() +
                " (use a smaller fraction, or 0 for no validation)");
  }
  for (size_t i = 0; i < allowed_rows.size(); ++i)
    (fold_of[i] == 0 ? val_rows : train_rows)->push_back(allowed_rows[i]);
}

}  // namespace ishannot
