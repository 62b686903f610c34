#pragma once
// Training one term's classifier on given rows of a Gram matrix, in ONE place for `evaluate` (one
// term and outer fold) and `train` (one term, on all genes or on a fold's training genes):
//   1. C by grouped inner CV on the training rows only (`inner_folds` folds by gene, an ensemble
//      of `inner_models` members per C, pooled inner out-of-fold AUC, ties to the smaller C; a
//      single grid value fixes C; impossible inner CV falls back to ensemble.logistic.C with a
//      note);
//   2. the under-sampling ensemble of ensemble.models members on all training rows.
// Seeds (common/seed.h): the caller passes the task's seed; derive_seed(seed, {1}) drives the
// inner CV and derive_seed(seed, {2}) the members. evaluate's task seed is evaluation_task_seed;
// `train --fold F/K` uses the same one, so it refits evaluate's ensemble of fold F exactly.
#include <Eigen/Dense>
#include <cstdint>
#include <string>
#include <vector>

#include "ishannot/learn/ensemble.h"

namespace ishannot {

struct TermFitParams {
  std::vector<double> c_grid = {1e-3, 1e-2, 1e-1, 1, 10, 100};  ///< one value: fixed C
  int inner_folds = 3;                                          ///< grouped inner CV for C
  int inner_models = 3;     ///< ensemble size inside the inner CV (speed)
  EnsembleParams ensemble;  ///< M members; its logistic.C is the fallback C
  std::string check() const;
};

/// A fitted term: the ensemble (members index rows of the Gram matrix), the C used and why C is
/// the fallback (empty when inner CV chose it or the grid fixed it).
struct TermFit {
  KernelEnsemble ensemble;
  double C = 0;
  std::string note;
};

/// Fits one term on `train_rows` of `gram` (n x n, preprocessed). `genes` and `labels` (0/1) are
/// per Gram row. Throws Error when the training rows lack a class.
TermFit fit_term(const Eigen::MatrixXd& gram, const std::vector<std::string>& genes,
                 const std::vector<uint8_t>& labels, const std::vector<int>& train_rows,
                 uint64_t seed, const TermFitParams& params);

/// The seed of evaluate's (stage range, term, outer fold) task: derive_seed(seed,
/// {kEvaluationTask, stage_index, term, fold}); stage_index = position in stage_range_names().
uint64_t evaluation_task_seed(uint64_t seed, uint64_t stage_index, int term, int fold);

/// The seed of `train`'s whole-data fit of one (stage range, term): derive_seed(seed,
/// {kTrainModel, stage_index, term}).
uint64_t train_model_seed(uint64_t seed, uint64_t stage_index, int term);

}  // namespace ishannot
