// Which rows of a stage range a fine-tuning run may see: the training genes of an outer fold
// (from a gene list or from the evaluate protocol's folds), split again by gene for validation.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>

#include "ishannot/ensemble.h"
#include "ishannot/error.h"
#include "ishannot/finetune.h"
#include "ishannot/splits.h"

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

std::vector<std::string> read_gene_list(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw file_error(path, "cannot open the gene list");
  std::vector<std::string> genes;
  std::string line;
  while (std::getline(in, line)) {
    if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    line.erase(0, line.find_first_not_of(" \t\r"));
    line.erase(line.find_last_not_of(" \t\r") + 1);
    if (!line.empty()) genes.push_back(line);
  }
  if (genes.empty()) throw file_error(path, "the gene list is empty");
  return genes;
}

std::vector<int> rows_of_genes(const Dataset& dataset, const StageProblem& problem,
                               const std::vector<std::string>& genes) {
  const std::set<std::string> wanted(genes.begin(), genes.end());
  std::vector<int> rows;
  for (int r = 0; r < problem.rows(); ++r) {
    const auto& image =
        dataset.images[static_cast<size_t>(problem.image_indices[static_cast<size_t>(r)])];
    if (wanted.count(image.gene)) rows.push_back(r);
  }
  if (rows.empty()) {
    throw Error("none of the " + std::to_string(wanted.size()) +
                " training genes has an image in stage range " + problem.stage_range);
  }
  return rows;
}

uint64_t outer_fold_seed(uint64_t seed, const std::string& stage_range) {
  const auto& names = stage_range_names();
  const uint64_t index = static_cast<uint64_t>(
      std::find(names.begin(), names.end(), normalise_stage_range(stage_range)) - names.begin());
  // The seed evaluate gives this stage range's outer folds (evaluation.cpp), so that --fold F/K
  // names the same genes as evaluate's fold F.
  return derive_seed(seed, {index});
}

std::vector<int> rows_outside_fold(const Dataset& dataset, const StageProblem& problem, int fold,
                                   int folds, uint64_t seed) {
  if (folds < 2 || fold < 0 || fold >= folds) {
    throw Error("--fold " + std::to_string(fold) + "/" + std::to_string(folds) +
                ": expected F/K with 0 <= F < K and K >= 2 (F as in evaluate's fold column)");
  }
  std::vector<int> all(static_cast<size_t>(problem.rows()));
  for (int r = 0; r < problem.rows(); ++r) all[static_cast<size_t>(r)] = r;
  GroupedSplitParams split;
  split.folds = folds;
  split.seed = outer_fold_seed(seed, problem.stage_range);
  const auto fold_of = grouped_kfold(genes_of_rows(dataset, problem, all), problem.labels,
                                     static_cast<int>(problem.terms.size()), split);
  return items_of_fold(fold_of, fold, /*in_fold=*/false);
}

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
  inner.seed = seed ^ 0x76616c6964ULL;  // "valid": not the outer folds' seed
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
