// One task of the evaluation protocol: a (term, outer fold) of a stage range, on its Gram matrix.
// The term is fitted on the training genes by fit_term (term_fit.h: C by inner grouped CV, then
// the under-sampling ensemble) and scored on the test genes.
#include <algorithm>
#include <cmath>

#include "detail/evaluation_stage.h"
#include "ishannot/common/error.h"
#include "ishannot/eval/metrics.h"
#include "ishannot/eval/term_fit.h"
#include "ishannot/learn/ensemble.h"

namespace ishannot::detail {

std::vector<const ImageRecord*> problem_images(const EvaluationStage& stage) {
  std::vector<const ImageRecord*> images;
  for (int i = 0; i < stage.problem.rows(); ++i)
    images.push_back(
        &stage.matched
             .images[static_cast<size_t>(stage.problem.image_indices[static_cast<size_t>(i)])]);
  return images;
}

void append_output(EvaluationResult& result, TaskOutput&& out) {
  auto move_into = [](auto& to, auto& from) {
    to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
  };
  move_into(result.metrics, out.metrics);
  move_into(result.predictions, out.predictions);
  move_into(result.skipped, out.skipped);
  move_into(result.notes, out.notes);
}

std::string plural(int n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

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
  // The one shared fit (term_fit.h): `train --fold F/K` refits this very ensemble.
  const TermFit fit =
      fit_term(gram, stage.genes, y, train,
               evaluation_task_seed(params.seed, stage.index, term, fold), params.fit);
  if (!fit.note.empty()) out.notes.push_back({layer, stage.name, term_name, fold, fit.note});
  const double c = fit.C;
  const KernelEnsemble& ensemble = fit.ensemble;
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
                               prediction.score[t], prediction.vote[t], prediction.votes[t],
                               static_cast<int>(ensemble.members.size())});
  }
  out.metrics.push_back({params.method, layer, stage.name, term_name, fold, "C", c});
  add_test_metrics(out, stage, term, fold, layer, params, prediction.vote, prediction.score,
                   labels);
  return out;
}

void add_test_metrics(TaskOutput& out, const EvaluationStage& stage, int term, int fold,
                      const std::string& layer, const EvaluationParams& params,
                      const std::vector<uint8_t>& vote, const std::vector<double>& score,
                      const std::vector<uint8_t>& labels) {
  const std::string& term_name = stage.problem.terms[static_cast<size_t>(term)];
  const BinaryMetrics m = binary_metrics(vote, score, labels);
  auto add = [&](const std::string& metric, double value) {
    out.metrics.push_back({params.method, layer, stage.name, term_name, fold, metric, value});
  };
  if (m.auc) add("auc", *m.auc);
  if (m.accuracy) add("accuracy", *m.accuracy);
  if (m.sensitivity) add("sensitivity", *m.sensitivity);
  if (m.specificity) add("specificity", *m.specificity);
  add("test_positives", m.positives);
  add("test_negatives", m.negatives);
  auto skip = [&](const std::string& reason) {
    out.skipped.push_back({layer, stage.name, term_name, fold, reason});
  };
  if (m.positives == 0) skip("test fold has no positives: sensitivity and AUC undefined");
  if (m.negatives == 0) skip("test fold has no negatives: specificity and AUC undefined");
}

}  // namespace ishannot::detail
