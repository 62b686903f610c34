#pragma once
// The paper's under-sampling ensemble for one term: each of M members trains an l2 logistic
// regression on all samples of the minority class plus an equal-size random sample (without
// replacement) of the majority class; prediction = majority vote of the members (label) and the
// mean of their probabilities (score, for AUC). Members work in kernel form on rows/columns of one
// precomputed Gram matrix, so a member costs O(m^3) in its own sample size m, never O(D).
#include <Eigen/Dense>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "ishannot/learn/logistic.h"

namespace ishannot {

/// The largest ensemble: each member is a fitted model held in memory (and M rows of weights per
/// term in a bundle); the paper uses 11. A larger M is refused at once, not after minutes.
constexpr int kMaxEnsembleModels = 1001;

struct EnsembleParams {
  int models = 11;          ///< M, odd so that votes cannot tie; at most kMaxEnsembleModels
  LogisticParams logistic;  ///< every member's l2 logistic regression (C, Newton tolerance...)
  std::string check() const;
};

/// One member: the rows (indices into the Gram matrix) it was trained on and its model.
struct EnsembleMember {
  std::vector<int> rows;
  KernelLogisticModel model;
};

struct KernelEnsemble {
  std::vector<EnsembleMember> members;
};

/// The member samples: for each of `models` members, all minority rows of `train_rows` plus an
/// equal-size sample of majority rows (all rows when the classes are balanced). Sorted rows.
/// Throws Error when one class is absent.
std::vector<std::vector<int>> undersample(const std::vector<int>& train_rows,
                                          const std::vector<uint8_t>& labels, int models,
                                          uint64_t seed);

/// Trains the ensemble on `train_rows` of the Gram matrix (labels indexed like the Gram rows);
/// `seed` (a derive_seed path, seed.h) draws the members' samples.
/// warm_start: an ensemble of the same rows and seed (other C) to start Newton from.
KernelEnsemble train_ensemble(const Eigen::MatrixXd& gram, const std::vector<int>& train_rows,
                              const std::vector<uint8_t>& labels, const EnsembleParams& params,
                              uint64_t seed, const KernelEnsemble* warm_start = nullptr);

/// train_ensemble at each C of `c_values` in turn, as a regularisation path: the members'
/// samples (drawn once, from `seed`) and their sub-Grams are made once, and each member's fit at
/// c_values[c] starts from its fit at c_values[c - 1]. path[c] equals
/// train_ensemble(gram, train_rows, labels, params with C = c_values[c], seed, &path[c - 1])
/// (params.logistic.C itself is not used). Throws Error as train_ensemble does, or on a C <= 0.
std::vector<KernelEnsemble> train_ensemble_path(const Eigen::MatrixXd& gram,
                                                const std::vector<int>& train_rows,
                                                const std::vector<uint8_t>& labels,
                                                const EnsembleParams& params,
                                                const std::vector<double>& c_values, uint64_t seed);

struct EnsemblePrediction {
  std::vector<double> score;  ///< mean member probability
  std::vector<uint8_t> vote;  ///< 1 when more than half of the members predict positive
  std::vector<int> votes;     ///< members predicting positive (decision value > 0)
};

/// Predicts `test_rows` of the Gram matrix.
EnsemblePrediction predict_ensemble(const Eigen::MatrixXd& gram, const KernelEnsemble& ensemble,
                                    const std::vector<int>& test_rows);

/// predict_ensemble for every ensemble of a train_ensemble_path result (same members' rows),
/// reading K(test rows, member rows) once per member for all of them: out[c] is
/// predict_ensemble(gram, path[c], test_rows) up to the summation order of the decision values.
std::vector<EnsemblePrediction> predict_ensemble_path(const Eigen::MatrixXd& gram,
                                                      const std::vector<KernelEnsemble>& path,
                                                      const std::vector<int>& test_rows);

}  // namespace ishannot
