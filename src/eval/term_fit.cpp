// fit_term (term_fit.h): C by grouped inner CV on the training rows, then the under-sampling
// ensemble. Shared by evaluate's tasks and by train.
#include "ishannot/eval/term_fit.h"

#include <algorithm>
#include <cmath>

#include "ishannot/common/error.h"
#include "ishannot/common/seed.h"
#include "ishannot/data/splits.h"
#include "ishannot/eval/metrics.h"

namespace ishannot {

std::string TermFitParams::check() const {
  if (inner_folds < 2) return "inner folds must be >= 2";
  if (c_grid.empty()) return "the C grid is empty";
  for (double c : c_grid)
    if (!(c > 0) || !std::isfinite(c)) return "C values must be positive";
  if (inner_models < 1 || inner_models % 2 == 0) return "inner models must be odd and >= 1";
  if (inner_models > kMaxEnsembleModels)
    return "inner models must be at most " + std::to_string(kMaxEnsembleModels);
  return ensemble.check();
}

uint64_t evaluation_task_seed(uint64_t seed, uint64_t stage_index, int term, int fold) {
  return derive_seed(seed, {stream(SeedStream::kEvaluationTask), stage_index,
                            static_cast<uint64_t>(term), static_cast<uint64_t>(fold)});
}

uint64_t train_model_seed(uint64_t seed, uint64_t stage_index, int term) {
  return derive_seed(seed,
                     {stream(SeedStream::kTrainModel), stage_index, static_cast<uint64_t>(term)});
}

namespace {

// Chooses C by inner grouped CV on the training rows: pooled inner out-of-fold AUC.
double choose_c(const Eigen::MatrixXd& gram, const std::vector<std::string>& genes,
                const std::vector<uint8_t>& y, const std::vector<int>& train, uint64_t seed,
                const TermFitParams& params, std::string& note) {
  std::vector<double> grid = params.c_grid;
  std::sort(grid.begin(), grid.end());
  if (grid.size() == 1) return grid[0];
  std::vector<int> inner;
  try {
    GroupedSplitParams split;
    split.folds = params.inner_folds;
    split.seed = seed;
    inner = grouped_inner_kfold(genes, y, 1, train, split);
  } catch (const Error& e) {
    note = std::string("inner CV impossible (") + e.what() + "): C = fallback";
    return params.ensemble.logistic.C;
  }
  // Per inner fold, the whole C path at once (each member's sub-Gram gathered once, each C
  // warm-started from the previous one); scores pooled over the folds per C, in fold order.
  std::vector<std::vector<double>> scores(grid.size());
  std::vector<uint8_t> labels;
  for (int j = 0; j < params.inner_folds; ++j) {
    std::vector<int> inner_train, inner_test;
    for (size_t k = 0; k < train.size(); ++k)
      (inner[k] == j ? inner_test : inner_train).push_back(train[k]);
    int pos = 0;
    for (int r : inner_train) pos += y[static_cast<size_t>(r)];
    if (inner_test.empty() || pos == 0 || pos == static_cast<int>(inner_train.size())) continue;
    EnsembleParams ep = params.ensemble;
    ep.models = params.inner_models;
    const std::vector<KernelEnsemble> path = train_ensemble_path(
        gram, inner_train, y, ep, grid, derive_seed(seed, {static_cast<uint64_t>(j)}));
    const auto predictions = predict_ensemble_path(gram, path, inner_test);
    for (size_t c = 0; c < grid.size(); ++c)
      scores[c].insert(scores[c].end(), predictions[c].score.begin(), predictions[c].score.end());
    for (int r : inner_test) labels.push_back(y[static_cast<size_t>(r)]);
  }
  double best_auc = -1, best_c = params.ensemble.logistic.C;
  for (size_t c = 0; c < grid.size(); ++c) {
    const auto auc = roc_auc(scores[c], labels);
    if (auc && *auc > best_auc) {
      best_auc = *auc;
      best_c = grid[c];
    }
  }
  if (best_auc < 0) note = "inner CV gave no defined AUC: C = fallback";
  return best_c;
}

}  // namespace

TermFit fit_term(const Eigen::MatrixXd& gram, const std::vector<std::string>& genes,
                 const std::vector<uint8_t>& labels, const std::vector<int>& train_rows,
                 uint64_t seed, const TermFitParams& params) {
  if (auto problem = params.check(); !problem.empty()) throw Error("term fit: " + problem);
  TermFit fit;
  fit.C = choose_c(gram, genes, labels, train_rows, derive_seed(seed, {1}), params, fit.note);
  EnsembleParams ep = params.ensemble;
  ep.logistic.C = fit.C;
  fit.ensemble = train_ensemble(gram, train_rows, labels, ep, derive_seed(seed, {2}));
  return fit;
}

}  // namespace ishannot
