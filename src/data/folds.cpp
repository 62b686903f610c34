#include "ishannot/data/folds.h"

#include <algorithm>
#include <fstream>
#include <set>

#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/common/seed.h"
#include "ishannot/data/splits.h"
#include "ishannot/data/stage_range.h"

namespace ishannot {

FoldSpec parse_fold_spec(const std::string& text) {
  const std::string expected =
      "': expected F/K with 0 <= F < K and K >= 2, e.g. 0/5 (F as in evaluate's fold column)";
  const auto slash = text.find('/');
  FoldSpec spec;
  try {
    if (slash == std::string::npos) throw Error("");
    size_t used = 0;
    spec.fold = std::stoi(text.substr(0, slash), &used);
    if (used != slash) throw Error("");
    const std::string k = text.substr(slash + 1);
    spec.folds = std::stoi(k, &used);
    if (used != k.size()) throw Error("");
  } catch (const std::exception&) {
    throw Error("--fold '" + text + expected);
  }
  if (spec.folds < 2 || spec.fold < 0 || spec.fold >= spec.folds)
    throw Error("--fold '" + text + expected);
  return spec;
}

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
  if (in.bad()) throw file_error(path, "read error in the gene list");
  if (genes.empty()) throw file_error(path, "no gene listed (one gene per line expected)");
  return genes;
}

std::string OuterFoldParams::check() const {
  if (folds < 2) return "folds must be >= 2 (got " + std::to_string(folds) + ")";
  return terms.check();
}

std::vector<int> OuterFolds::rows_in(int f) const {
  std::vector<int> rows;
  for (size_t i = 0; i < fold.size(); ++i)
    if (fold[i] == f) rows.push_back(static_cast<int>(i));
  return rows;
}

std::vector<int> OuterFolds::rows_outside(int f) const {
  std::vector<int> rows;
  for (size_t i = 0; i < fold.size(); ++i)
    if (fold[i] != f) rows.push_back(static_cast<int>(i));
  return rows;
}

namespace {
std::vector<std::string> genes_of(const OuterFolds& folds, const std::vector<int>& rows) {
  std::set<std::string> genes;
  for (int r : rows) genes.insert(folds.genes[static_cast<size_t>(r)]);
  return {genes.begin(), genes.end()};
}
}  // namespace

std::vector<std::string> OuterFolds::genes_in(int f) const {
  return genes_of(*this, rows_in(f));
}
std::vector<std::string> OuterFolds::genes_outside(int f) const {
  return genes_of(*this, rows_outside(f));
}

uint64_t outer_fold_seed(uint64_t seed, const std::string& stage_range) {
  const auto& names = stage_range_names();
  const auto index = static_cast<uint64_t>(
      std::find(names.begin(), names.end(), problem_stage_range(stage_range)) - names.begin());
  return derive_seed(seed, {stream(SeedStream::kOuterFolds), index});
}

OuterFolds outer_folds(const Dataset& dataset, const std::string& stage_range,
                       const OuterFoldParams& params) {
  if (auto problem = params.check(); !problem.empty()) throw Error(problem);
  OuterFolds out;
  out.folds = params.folds;
  out.problem = select_terms(dataset, problem_stage_range(stage_range), params.terms);
  for (int i : out.problem.image_indices)
    out.genes.push_back(dataset.images[static_cast<size_t>(i)].gene);
  GroupedSplitParams split;
  split.folds = params.folds;
  split.seed = outer_fold_seed(params.seed, stage_range);
  out.fold = grouped_kfold(out.genes, out.problem.labels,
                           static_cast<int>(out.problem.terms.size()), split);
  return out;
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
  if (rows.empty())
    throw Error("none of the " + std::to_string(wanted.size()) +
                " listed genes has an image in stage range " + problem.stage_range);
  return rows;
}

}  // namespace ishannot
