// train (train.h): per stage range, plan (train_plan.cpp), Gram, cross-validated quality and final
// fits (one parallel task list), primal weights (primal_weights.cpp), then the bundle's stage.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <unordered_map>

#include "detail/parallel.h"
#include "detail/primal_weights.h"
#include "detail/train_plan.h"
#include "ishannot/annotate/model_bundle.h"
#include "ishannot/annotate/train.h"
#include "ishannot/common/error.h"
#include "ishannot/common/format.h"
#include "ishannot/common/fs_util.h"

namespace ishannot {

using detail::StagePlan;

namespace {

using Clock = std::chrono::steady_clock;

// The Grams of one stage range (layers summed, preprocessed): one for every CV fold f (per-fold
// standardisation statistics) or a single one, and the final fit's. Rows with NaN/Inf are `bad`.
struct StageGrams {
  std::vector<Eigen::MatrixXd> cv;  // empty, one shared, or one per fold
  Eigen::MatrixXd final_gram;
  std::vector<uint8_t> bad;
  std::vector<double> squared_norms;  // raw diagonal (l2), per problem row
};

StageGrams stage_grams(const FeatureStoreReader& store, const std::vector<std::string>& layers,
                       const StagePlan& plan, const TrainParams& params, const Reporter& reporter) {
  const int n = plan.stage.problem.rows();
  const bool standardise = params.preprocessing == Preprocessing::kStandardise;
  // Standardise: one Gram per fold index. CV folds 0..K-1 leave their fold out of the statistics
  // (evaluate's); index `final_index` holds the statistics of the final fit's training rows.
  std::vector<int> fold_of;
  int folds = 0, final_index = 0;
  if (standardise) {
    const bool by_fold = plan.folds >= 2 && params.fold >= 0;
    if (plan.cross_validate || by_fold) {
      fold_of = plan.stage.folds;
      folds = plan.cross_validate ? plan.folds + 1 : plan.folds;
      final_index = plan.cross_validate ? plan.folds : params.fold;
    } else {  // training rows in fold 0, the others in fold 1: Gram 1 has their statistics
      fold_of.assign(static_cast<size_t>(n), 1);
      for (int r : plan.train_rows) fold_of[static_cast<size_t>(r)] = 0;
      folds = 2;
      final_index = 1;
    }
  }
  StageGrams out;
  out.bad.assign(static_cast<size_t>(n), 0);
  std::vector<Eigen::MatrixXd> sum;
  for (const auto& layer : layers) {
    GramResult g = compute_gram(store, layer, plan.store_rows, params.preprocessing, fold_of, folds,
                                params.gram, reporter);
    for (int i = 0; i < n; ++i)
      out.bad[static_cast<size_t>(i)] |= g.non_finite[static_cast<size_t>(i)];
    if (sum.empty())
      sum = std::move(g.grams);
    else
      for (size_t f = 0; f < sum.size(); ++f) sum[f] += g.grams[f];
  }
  if (!standardise) {
    for (int i = 0; i < n; ++i) out.squared_norms.push_back(sum[0](i, i));
    if (params.preprocessing == Preprocessing::kL2) l2_normalise_gram(sum[0]);
    out.final_gram = sum[0];
    if (plan.cross_validate) out.cv.push_back(std::move(sum[0]));
    return out;
  }
  out.final_gram = std::move(sum[static_cast<size_t>(final_index)]);
  if (plan.cross_validate)
    for (int f = 0; f < plan.folds; ++f) out.cv.push_back(std::move(sum[static_cast<size_t>(f)]));
  return out;
}

EvaluationParams task_params(const TrainParams& params) {
  EvaluationParams e;
  e.method = params.method;
  e.folds = std::max(2, params.folds);
  e.inner_folds = params.fit.inner_folds;
  e.c_grid = params.fit.c_grid;
  e.inner_models = params.fit.inner_models;
  e.ensemble = params.fit.ensemble;
  e.preprocessing = params.preprocessing;
  e.seed = params.seed;
  return e;
}

// One term's results: the cross-validated quality and the final fit.
struct TermResult {
  std::vector<MetricRow> cv;
  std::vector<double> oof_scores;  // out-of-fold scores of the CV tasks (calibration)
  std::vector<uint8_t> oof_labels;
  bool trained = false;
  TermFit fit;
  std::string note;
};

std::vector<TermResult> fit_terms(const StagePlan& plan, const StageGrams& grams,
                                  const TrainParams& params, const Reporter& reporter) {
  const auto& stage = plan.stage;
  const int n_terms = static_cast<int>(stage.problem.terms.size());
  const EvaluationParams eval = task_params(params);
  std::vector<std::pair<int, int>> tasks;  // (term, fold); fold -1 = the final fit
  for (int t = 0; t < n_terms; ++t) {
    tasks.emplace_back(t, -1);
    if (plan.cross_validate && !stage.skip_term[static_cast<size_t>(t)])
      for (int f = 0; f < plan.folds; ++f) tasks.emplace_back(t, f);
  }
  std::vector<TermResult> results(static_cast<size_t>(n_terms));
  std::vector<detail::TaskOutput> cv_out(tasks.size());
  std::vector<int> train_rows;
  for (int r : plan.train_rows)
    if (!grams.bad[static_cast<size_t>(r)]) train_rows.push_back(r);
  detail::LoopErrors errors;
  std::mutex mutex;
  int64_t done = 0;
#pragma omp parallel for schedule(dynamic)
  for (int64_t k = 0; k < static_cast<int64_t>(tasks.size()); ++k) {
    errors.run(k, [&] {
      const auto [t, f] = tasks[static_cast<size_t>(k)];
      if (f >= 0) {
        const auto& gram = grams.cv.size() > 1 ? grams.cv[static_cast<size_t>(f)] : grams.cv[0];
        cv_out[static_cast<size_t>(k)] =
            detail::run_evaluation_task(gram, stage, grams.bad, t, f, "cv", eval);
      } else {
        TermResult& r = results[static_cast<size_t>(t)];
        std::vector<uint8_t> y(static_cast<size_t>(stage.problem.rows()));
        int pos = 0;
        for (int i = 0; i < stage.problem.rows(); ++i)
          y[static_cast<size_t>(i)] = stage.problem.label(i, t);
        for (int i : train_rows) pos += y[static_cast<size_t>(i)];
        if (pos == 0 || pos == static_cast<int>(train_rows.size())) {
          r.note = "term '" + stage.problem.terms[static_cast<size_t>(t)] +
                   "' not trained: its training images have no " +
                   (pos == 0 ? "positive" : "negative");
        } else {
          const uint64_t seed = params.fold >= 0
                                    ? evaluation_task_seed(params.seed, stage.index, t, params.fold)
                                    : train_model_seed(params.seed, stage.index, t);
          r.fit = fit_term(grams.final_gram, stage.genes, y, train_rows, seed, params.fit);
          r.trained = true;
        }
      }
      std::lock_guard<std::mutex> lock(mutex);
      reporter.report("train " + stage.name, ++done, static_cast<int64_t>(tasks.size()));
    });
  }
  errors.rethrow();
  for (size_t k = 0; k < tasks.size(); ++k) {
    auto& r = results[static_cast<size_t>(tasks[k].first)];
    r.cv.insert(r.cv.end(), cv_out[k].metrics.begin(), cv_out[k].metrics.end());
    for (const auto& p : cv_out[k].predictions) {
      r.oof_scores.push_back(p.score);
      r.oof_labels.push_back(static_cast<uint8_t>(p.label));
    }
  }
  return results;
}

// Mean over folds of each CV metric (NaN when no fold defined it).
TermQuality quality(const std::vector<MetricRow>& rows) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  TermQuality q{nan, nan, nan, nan, 0};
  std::map<std::string, std::vector<double>> by_metric;
  for (const auto& m : rows) by_metric[m.metric].push_back(m.value);
  auto mean = [&](const std::string& metric) {
    const auto& v = by_metric[metric];
    if (v.empty()) return nan;
    double s = 0;
    for (double x : v) s += x;
    return s / static_cast<double>(v.size());
  };
  q.auc = mean("auc");
  q.accuracy = mean("accuracy");
  q.sensitivity = mean("sensitivity");
  q.specificity = mean("specificity");
  q.folds = static_cast<int>(by_metric["auc"].size());
  return q;
}

}  // namespace

StageModel detail::train_stage(const FeatureStoreReader& store,
                               const std::vector<std::string>& layers, const StagePlan& plan,
                               const TrainParams& params, const Reporter& reporter) {
  const auto& stage = plan.stage;
  StageModel model;
  model.stage_range = stage.name;
  model.notes = plan.notes;
  std::vector<TermResult> results;
  std::vector<double> norms;
  std::vector<int> train_rows;
  {
    const StageGrams grams = stage_grams(store, layers, plan, params, reporter);
    results = fit_terms(plan, grams, params, reporter);
    for (int r : plan.train_rows)
      if (!grams.bad[static_cast<size_t>(r)]) {
        train_rows.push_back(r);
        if (!grams.squared_norms.empty())
          norms.push_back(grams.squared_norms[static_cast<size_t>(r)]);
      } else {
        model.notes.push_back(
            "image " +
            stage.matched
                .images[static_cast<size_t>(stage.problem.image_indices[static_cast<size_t>(r)])]
                .id +
            " has NaN/Inf features: not used");
      }
  }  // the Grams are freed before the weight pass
  std::set<std::string> genes;
  for (int r : train_rows) genes.insert(stage.genes[static_cast<size_t>(r)]);
  model.genes.assign(genes.begin(), genes.end());
  model.images = static_cast<int64_t>(train_rows.size());
  std::unordered_map<int, Eigen::Index> column;  // problem row -> column of the coefficients
  std::vector<int64_t> rows;
  for (int r : train_rows) {
    column[r] = static_cast<Eigen::Index>(rows.size());
    rows.push_back(plan.store_rows[static_cast<size_t>(r)]);
  }
  const int m = params.fit.ensemble.models;
  std::vector<const TermResult*> trained;
  for (size_t t = 0; t < results.size(); ++t) {
    const auto& r = results[t];
    if (!r.note.empty()) model.notes.push_back(r.note);
    if (!r.fit.note.empty())
      model.notes.push_back("term '" + stage.problem.terms[t] + "': " + r.fit.note);
    if (!r.trained) continue;
    trained.push_back(&r);
    TermModel term;
    term.term = stage.problem.terms[t];
    term.C = r.fit.C;
    for (const auto& member : r.fit.ensemble.members) term.bias.push_back(member.model.bias);
    std::set<std::string> pos_genes;
    for (int row : train_rows) {
      const bool positive = stage.problem.label(row, static_cast<int>(t));
      (positive ? term.positives : term.negatives) += 1;
      if (positive) pos_genes.insert(stage.genes[static_cast<size_t>(row)]);
    }
    term.positive_genes = static_cast<int64_t>(pos_genes.size());
    term.cv = quality(r.cv);
    // Out-of-fold scores of fewer than 2 folds with an AUC come from 1-2 genes: a calibration
    // fitted on them says 0 or 1 with no ground (measured: docs/ANNOTATE.md); none then.
    term.calibration =
        fit_calibration(term.cv.folds >= 2 ? params.calibration : CalibrationMethod::kNone,
                        r.oof_scores, r.oof_labels);
    model.terms.push_back(std::move(term));
  }
  if (model.terms.empty()) return model;
  Eigen::MatrixXd a = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(trained.size()) * m,
                                            static_cast<Eigen::Index>(rows.size()));
  for (size_t u = 0; u < trained.size(); ++u)
    for (int k = 0; k < m; ++k) {
      const auto& member = trained[u]->fit.ensemble.members[static_cast<size_t>(k)];
      for (size_t j = 0; j < member.rows.size(); ++j)
        a(static_cast<Eigen::Index>(u) * m + k, column.at(member.rows[j])) =
            member.model.coef[static_cast<Eigen::Index>(j)];
    }
  auto primal = detail::primal_weights(store, layers, rows, a, params.preprocessing, norms,
                                       params.gram, reporter);
  model.weights = primal.weights.cast<float>();
  model.mean = std::move(primal.mean);
  model.scale = std::move(primal.scale);
  return model;
}

}  // namespace ishannot
