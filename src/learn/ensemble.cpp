#include "ishannot/learn/ensemble.h"

#include <algorithm>
#include <cmath>

#include "detail/rng.h"
#include "ishannot/common/assert.h"
#include "ishannot/common/error.h"

namespace ishannot {

std::string EnsembleParams::check() const {
  if (models < 1 || models % 2 == 0)
    return "models (M) must be odd and >= 1, got " + std::to_string(models);
  if (models > kMaxEnsembleModels)
    return "models (M) must be at most " + std::to_string(kMaxEnsembleModels) + ", got " +
           std::to_string(models);
  return logistic.check();
}

std::vector<std::vector<int>> undersample(const std::vector<int>& train_rows,
                                          const std::vector<uint8_t>& labels, int models,
                                          uint64_t seed) {
  std::vector<int> pos, neg;
  for (int r : train_rows) (labels[static_cast<size_t>(r)] ? pos : neg).push_back(r);
  if (pos.empty() || neg.empty())
    throw Error("cannot train a term without " +
                std::string(pos.empty() ? "positives" : "negatives") + " in its training rows");
  const bool pos_minority = pos.size() <= neg.size();
  const std::vector<int>& minority = pos_minority ? pos : neg;
  const std::vector<int>& majority = pos_minority ? neg : pos;
  std::vector<std::vector<int>> samples;
  for (int k = 0; k < models; ++k) {
    detail::Rng rng = detail::Rng::from_derived(seed, {static_cast<uint64_t>(k)});
    std::vector<int> pool = majority;
    // Partial Fisher-Yates: the first minority.size() entries are a uniform sample.
    for (size_t i = 0; i < minority.size(); ++i)
      std::swap(pool[i], pool[i + rng.below(pool.size() - i)]);
    std::vector<int> sample = minority;
    sample.insert(sample.end(), pool.begin(),
                  pool.begin() + static_cast<std::ptrdiff_t>(minority.size()));
    std::sort(sample.begin(), sample.end());
    samples.push_back(std::move(sample));
  }
  return samples;
}

namespace {

// The member's sub-Gram, K(rows, rows); its labels.
Eigen::MatrixXd gather_gram(const Eigen::MatrixXd& gram, const std::vector<int>& rows) {
  const auto m = static_cast<Eigen::Index>(rows.size());
  Eigen::MatrixXd sub(m, m);
  for (Eigen::Index j = 0; j < m; ++j)
    for (Eigen::Index i = 0; i < m; ++i)
      sub(i, j) = gram(rows[static_cast<size_t>(i)], rows[static_cast<size_t>(j)]);
  return sub;
}

std::vector<uint8_t> gather_labels(const std::vector<uint8_t>& labels,
                                   const std::vector<int>& rows) {
  std::vector<uint8_t> y(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) y[i] = labels[static_cast<size_t>(rows[i])];
  return y;
}

}  // namespace

KernelEnsemble train_ensemble(const Eigen::MatrixXd& gram, const std::vector<int>& train_rows,
                              const std::vector<uint8_t>& labels, const EnsembleParams& params,
                              uint64_t seed, const KernelEnsemble* warm_start) {
  if (auto problem = params.check(); !problem.empty()) throw Error("ensemble: " + problem);
  const auto samples = undersample(train_rows, labels, params.models, seed);
  KernelEnsemble ensemble;
  ensemble.members.resize(samples.size());
  for (size_t k = 0; k < samples.size(); ++k) {
    const auto& rows = samples[k];
    const KernelLogisticModel* warm = nullptr;
    if (warm_start && warm_start->members.size() == samples.size() &&
        warm_start->members[k].rows == rows)
      warm = &warm_start->members[k].model;
    ensemble.members[k].rows = rows;
    ensemble.members[k].model = fit_kernel_logistic(
        gather_gram(gram, rows), gather_labels(labels, rows), params.logistic, warm);
  }
  return ensemble;
}

std::vector<KernelEnsemble> train_ensemble_path(const Eigen::MatrixXd& gram,
                                                const std::vector<int>& train_rows,
                                                const std::vector<uint8_t>& labels,
                                                const EnsembleParams& params,
                                                const std::vector<double>& c_values,
                                                uint64_t seed) {
  if (auto problem = params.check(); !problem.empty()) throw Error("ensemble: " + problem);
  for (double c : c_values)
    if (!(c > 0) || !std::isfinite(c)) throw Error("ensemble: C values must be positive");
  const auto samples = undersample(train_rows, labels, params.models, seed);
  std::vector<KernelEnsemble> path(c_values.size());
  for (auto& ensemble : path) ensemble.members.resize(samples.size());
  for (size_t k = 0; k < samples.size(); ++k) {
    const auto& rows = samples[k];
    const Eigen::MatrixXd sub = gather_gram(gram, rows);  // once for every C
    const std::vector<uint8_t> y = gather_labels(labels, rows);
    LogisticParams lp = params.logistic;
    for (size_t c = 0; c < c_values.size(); ++c) {
      lp.C = c_values[c];
      const KernelLogisticModel* warm = c > 0 ? &path[c - 1].members[k].model : nullptr;
      path[c].members[k].rows = rows;
      path[c].members[k].model = fit_kernel_logistic(sub, y, lp, warm);
    }
  }
  return path;
}

EnsemblePrediction predict_ensemble(const Eigen::MatrixXd& gram, const KernelEnsemble& ensemble,
                                    const std::vector<int>& test_rows) {
  const size_t n = test_rows.size();
  EnsemblePrediction out;
  out.score.assign(n, 0.0);
  std::vector<int> votes(n, 0);
  // K is symmetric: read K(member row, test row), down a column (contiguous in memory).
  for (const auto& member : ensemble.members) {
    for (size_t t = 0; t < n; ++t) {
      double f = member.model.bias;
      for (size_t j = 0; j < member.rows.size(); ++j)
        f += member.model.coef[static_cast<Eigen::Index>(j)] * gram(member.rows[j], test_rows[t]);
      out.score[t] += sigmoid(f);
      votes[t] += f > 0 ? 1 : 0;
    }
  }
  const auto members = static_cast<int>(ensemble.members.size());
  out.vote.resize(n);
  out.votes = votes;
  for (size_t t = 0; t < n; ++t) {
    out.score[t] /= std::max(1, members);
    out.vote[t] = static_cast<uint8_t>(2 * votes[t] > members);
  }
  return out;
}

std::vector<EnsemblePrediction> predict_ensemble_path(const Eigen::MatrixXd& gram,
                                                      const std::vector<KernelEnsemble>& path,
                                                      const std::vector<int>& test_rows) {
  const size_t n = test_rows.size();
  std::vector<EnsemblePrediction> out(path.size());
  std::vector<std::vector<int>> votes(path.size(), std::vector<int>(n, 0));
  for (auto& prediction : out) prediction.score.assign(n, 0.0);
  if (path.empty()) return out;
  const size_t members = path[0].members.size();
  for (size_t k = 0; k < members; ++k) {
    const std::vector<int>& rows = path[0].members[k].rows;
    // K(test, member rows) once for every C: row t is read down column test_rows[t] of K.
    Eigen::MatrixXd block(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(n));
    for (size_t t = 0; t < n; ++t)
      for (size_t j = 0; j < rows.size(); ++j)
        block(static_cast<Eigen::Index>(j), static_cast<Eigen::Index>(t)) =
            gram(rows[j], test_rows[t]);
    for (size_t c = 0; c < path.size(); ++c) {
      const EnsembleMember& member = path[c].members[k];
      ISHANNOT_ASSERT(member.rows == rows, "every C of a path has the same member rows");
      const Eigen::VectorXd f = (block.transpose() * member.model.coef).array() + member.model.bias;
      for (size_t t = 0; t < n; ++t) {
        out[c].score[t] += sigmoid(f[static_cast<Eigen::Index>(t)]);
        votes[c][t] += f[static_cast<Eigen::Index>(t)] > 0 ? 1 : 0;
      }
    }
  }
  for (size_t c = 0; c < path.size(); ++c) {
    out[c].vote.resize(n);
    out[c].votes = votes[c];
    for (size_t t = 0; t < n; ++t) {
      out[c].score[t] /= std::max<size_t>(1, members);
      out[c].vote[t] = static_cast<uint8_t>(2 * votes[c][t] > static_cast<int>(members));
    }
  }
  return out;
}

}  // namespace ishannot
