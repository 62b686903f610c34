// One task of the evaluation protocol: a (term, outer fold) of a stage range, on its Gram matrix.
// C is chosen by inner grouped CV on the training genes (pooled inner out-of-fold AUC, ties to the
// smaller C), then the under-sampling ensemble is trained on the training genes and scored on the
// test genes.
#include <algorithm>
#include <cmath>

#include "detail/evaluation_stage.h"
#include "ishannot/common/error.h"
#include "ishannot/common/seed.h"
#include "ishannot/data/splits.h"
#include "ishannot/eval/metrics.h"
#include "ishannot/learn/ensemble.h"

namespace ishannot::detail {

std::string plural(int n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

namespace {

// Chooses C by inner grouped CV on the training rows: pooled inner out-of-fold AUC.
double choose_c(const Eigen::MatrixXd& gram, const EvaluationStage& stage,
                const std::vector<uint8_t>& y, const std::vector<int>& train, uint64_t seed,
                const EvaluationParams& params, std::string& note) {
  std::vector<double> grid = params.c_grid;
  std::sort(grid.begin(), grid.end());
  if (grid.size() == 1) return grid[0];
  std::vector<int> inner;
  try {
    GroupedSplitParams split;
    split.folds = params.inner_folds;
    split.seed = seed;
    inner = grouped_inner_kfold(stage.genes, y, 1, train, split);
  } catch (const Error& e) {
    note = std::string("inner CV impossible (") + e.what() + "): C = fallback";
    return params.ensemble.C;
  }
  std::vector<KernelEnsemble> previous(static_cast<size_t>(params.inner_folds));
  double best_auc = -1, best_c = params.ensemble.C;
  for (double c : grid) {
    std::vector<double> scores;
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
      ep.C = c;
      ep.seed = derive_seed(seed, {static_cast<uint64_t>(j)});
      auto& warm = previous[static_cast<size_t>(j)];
      KernelEnsemble ensemble =
          train_ensemble(gram, inner_train, y, ep, warm.members.empty() ? nullptr : &warm);
      const auto prediction = predict_ensemble(gram, ensemble, inner_test);
      warm = std::move(ensemble);
      for (size_t t = 0; t < inner_test.size(); ++t) {
        scores.push_back(prediction.score[t]);
        labels.push_back(y[static_cast<size_t>(inner_test[t])]);
      }
    }
    const auto auc = roc_auc(scores, labels);
    if (auc && *auc > best_auc) {
      best_auc = *auc;
      best_c = c;
    }
  }
  if (best_auc < 0) note = "inner CV gave no defined AUC: C = fallback";
  return best_c;
}

}  // namespace

TaskOutput run_evaluation_task(const Eigen::MatrixXd& gram, const EvaluationStage& stage,
                               const std::vector<uint8_t>& bad, int term, int fold,
                               const std::string& layer, const EvaluationParams& params) {
  const Dataset& dataset = stage.matched;
  TaskOutput out;
  const auto& problem = stage.problem;
  const std::string& term_name = problem.terms[static_cast<size_t>(term)];
  auto skip = [&](const std::string& reason) {
    out.skipped.push_back({layer, stage.name, term_name, fold, reason});
  };
  const int n = problem.rows();
  std::vector<uint8_t> y(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) y[static_cast<size_t>(i)] = problem.label(i, term);
  std::vector<int> train, test;
  int train_pos = 0;
  for (int i = 0; i < n; ++i) {
    if (bad[static_cast<size_t>(i)]) continue;
    if (stage.folds[static_cast<size_t>(i)] == fold) {
      test.push_back(i);
    } else {
      train.push_back(i);
      train_pos += y[static_cast<size_t>(i)];
    }
  }
  if (test.empty()) {
    skip("no test image in this fold");
    return out;
  }
  if (train_pos == 0 || train_pos == static_cast<int>(train.size())) {
    skip(std::string("training folds have no ") + (train_pos == 0 ? "positives" : "negatives") +
         " (" + plural(static_cast<int>(train.size()), "image") + ")");
    return out;
  }
  const uint64_t seed =
      derive_seed(params.seed, {stream(SeedStream::kEvaluationTask), stage.index,
                                static_cast<uint64_t>(term), static_cast<uint64_t>(fold)});
  std::string note;
  const double c = choose_c(gram, stage, y, train, derive_seed(seed, {1}), params, note);
  if (!note.empty()) out.notes.push_back({layer, stage.name, term_name, fold, note});
  EnsembleParams ep = params.ensemble;
  ep.C = c;
  ep.seed = derive_seed(seed, {2});
  const KernelEnsemble ensemble = train_ensemble(gram, train, y, ep);
  const auto prediction = predict_ensemble(gram, ensemble, test);
  // The last guard against NaN (the rows that cause it are dropped before): no metric, no
  // prediction of a classifier whose scores are not numbers.
  for (double score : prediction.score)
    if (!std::isfinite(score)) {
      skip("the classifier gave non-finite scores (NaN/Inf): features too large or degenerate?");
      return out;
    }
  std::vector<uint8_t> labels(test.size());
  for (size_t t = 0; t < test.size(); ++t) {
    const int row = test[t];
    labels[t] = y[static_cast<size_t>(row)];
    const auto& image =
        dataset.images[static_cast<size_t>(problem.image_indices[static_cast<size_t>(row)])];
    out.predictions.push_back({image.id, image.gene, stage.name, layer, term_name, fold, labels[t],
                               prediction.score[t], prediction.vote[t]});
  }
  const BinaryMetrics m = binary_metrics(prediction.vote, prediction.score, labels);
  auto add = [&](const std::string& metric, double value) {
    out.metrics.push_back({params.method, layer, stage.name, term_name, fold, metric, value});
  };
  if (m.auc) add("auc", *m.auc);
  if (m.accuracy) add("accuracy", *m.accuracy);
  if (m.sensitivity) add("sensitivity", *m.sensitivity);
  if (m.specificity) add("specificity", *m.specificity);
  add("C", c);
  add("test_positives", m.positives);
  add("test_negatives", m.negatives);
  if (m.positives == 0) skip("test fold has no positives: sensitivity and AUC undefined");
  if (m.negatives == 0) skip("test fold has no negatives: specificity and AUC undefined");
  return out;
}

}  // namespace ishannot::detail
