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

#include "annotate/primal_weights.h"
#include "annotate/train_plan.h"
#include "detail/bag_stage.h"
#include "detail/parallel.h"
#include "ishannot/annotate/model_bundle.h"
#include "ishannot/annotate/train.h"
#include "ishannot/common/error.h"
#include "ishannot/common/format.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/eval/bags.h"

namespace ishannot {

using detail::StagePlan;

using detail::StageGrams;

StageGrams detail::stage_grams(const FeatureStoreReader& store,
                               const std::vector<std::string>& layers, const StagePlan& plan,
                               const TrainParams& params, const Reporter& reporter) {
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
    for (const auto& kind : unusable_rows(g, out.bad)) {
      const auto image = plan.stage.problem.image_indices[static_cast<size_t>(kind.rows.front())];
      out.dropped.push_back(
          layer + ": " + detail::plural(static_cast<int>(kind.rows.size()), "image") + kind.what +
          " (dropped; first: " + plan.stage.matched.images[static_cast<size_t>(image)].id + ")");
    }
    if (sum.empty())
      sum = std::move(g.grams);
    else
      for (size_t f = 0; f < sum.size(); ++f) sum[f] += g.grams[f];
  }
  if (!standardise) {
    for (int i = 0; i < n; ++i) out.squared_norms.push_back(sum[0](i, i));
    if (params.preprocessing == Preprocessing::kL2) l2_normalise_gram(sum[0]);
    out.final_gram = std::move(sum[0]);  // the CV tasks read it too (cv stays empty)
    return out;
  }
  out.final_gram = std::move(sum[static_cast<size_t>(final_index)]);
  if (plan.cross_validate)
    for (int f = 0; f < plan.folds; ++f) out.cv.push_back(std::move(sum[static_cast<size_t>(f)]));
  return out;
}

EvaluationParams detail::task_params(const TrainParams& params) {
  EvaluationParams e;
  e.method = params.method;
  e.folds = std::max(2, params.folds);
  e.fit = params.fit;
  e.preprocessing = params.preprocessing;
  e.seed = params.seed;
  return e;
}

namespace {

using Clock = std::chrono::steady_clock;

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
  const EvaluationParams eval = detail::task_params(params);
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
        const auto& gram = grams.cv.empty() ? grams.final_gram : grams.cv[static_cast<size_t>(f)];
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

}  // namespace

TermQuality detail::quality(const std::vector<MetricRow>& rows) {
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

namespace {

// train --unit bag (eval/bags.h): the stage's image rows pooled into gene bags. The plan and the
// Grams become the bags' (the image level's tasks and fit_term then run on bags unchanged); the
// members' coefficients over bags map back to image rows (mean) or to a max-pooled pass (max)
// for the primal weights.
struct BagForm {
  Bags bags;
  std::vector<double> factor;  // per bag: 1/||pooled vector|| (l2) or 1
  std::vector<double> scale;   // per image row: 1/||x|| (l2) or 1
  StagePlan plan;              // rows = bags
};

BagForm to_bags(const StagePlan& plan, StageGrams& grams, const FeatureStoreReader& store,
                const std::vector<std::string>& layers, const TrainParams& params) {
  BagForm form;
  const auto& stage = plan.stage;
  const std::vector<const ImageRecord*> images = detail::problem_images(stage);
  form.bags = make_bags(images, grams.bad, stage.matched.source);
  const bool l2 = params.preprocessing == Preprocessing::kL2;
  for (size_t i = 0; i < images.size(); ++i)
    form.scale.push_back(l2 && grams.squared_norms[i] > 0 ? 1 / std::sqrt(grams.squared_norms[i])
                                                          : 1.0);
  Eigen::MatrixXd pooled;
  if (params.bag_pool == BagPool::kMean) {
    pooled = mean_pooled_gram(grams.final_gram, form.bags);
  } else {
    pooled = Eigen::MatrixXd::Zero(form.bags.size(), form.bags.size());
    for (const auto& layer : layers)
      pooled += max_pooled_gram(store, layer, plan.store_rows, form.scale, form.bags, params.gram);
  }
  for (int b = 0; b < form.bags.size(); ++b)
    form.factor.push_back(l2 && pooled(b, b) > 0 ? 1 / std::sqrt(pooled(b, b)) : 1.0);
  if (l2) l2_normalise_gram(pooled);
  for (auto& k : grams.cv) k = mean_pooled_gram(k, form.bags);  // standardise's per-fold Grams
  grams.final_gram = std::move(pooled);
  grams.bad.assign(static_cast<size_t>(form.bags.size()), 0);
  form.plan.stage = detail::bag_stage_of(stage, form.bags);
  form.plan.folds = plan.folds;
  form.plan.cross_validate = plan.cross_validate;
  form.plan.notes = plan.notes;
  const std::set<int> train(plan.train_rows.begin(), plan.train_rows.end());
  for (int b = 0; b < form.bags.size(); ++b)
    if (train.count(form.bags.rows[static_cast<size_t>(b)].front()))
      form.plan.train_rows.push_back(b);
  int dropped = 0;
  for (int d : form.bags.dropped_rows) dropped += d;
  if (dropped > 0)
    form.plan.notes.push_back(std::to_string(dropped) +
                              " images with NaN/Inf features left out of their bags");
  return form;
}

// Primal weights of bag members (a: members x the training bags `bags`, in order).
detail::PrimalWeights bag_weights(const FeatureStoreReader& store,
                                  const std::vector<std::string>& layers, const StagePlan& plan,
                                  const BagForm& form, const std::vector<int>& bags,
                                  const Eigen::MatrixXd& a, const TrainParams& params,
                                  const std::vector<double>& squared_norms,
                                  const Reporter& reporter) {
  if (params.bag_pool == BagPool::kMean) {  // w = sum_b a_b f_b mean_i pre(x_i)
    std::vector<int64_t> rows;
    std::vector<double> norms;
    std::vector<std::pair<int, double>> from;  // per image column: (bag column, weight)
    for (size_t j = 0; j < bags.size(); ++j) {
      const auto& members = form.bags.rows[static_cast<size_t>(bags[j])];
      for (int r : members) {
        rows.push_back(plan.store_rows[static_cast<size_t>(r)]);
        if (!squared_norms.empty())  // l2 and none; standardise has none
          norms.push_back(squared_norms[static_cast<size_t>(r)]);
        from.emplace_back(static_cast<int>(j), form.factor[static_cast<size_t>(bags[j])] /
                                                   static_cast<double>(members.size()));
      }
    }
    Eigen::MatrixXd image_a(a.rows(), static_cast<Eigen::Index>(rows.size()));
    for (size_t c = 0; c < from.size(); ++c)
      image_a.col(static_cast<Eigen::Index>(c)) = a.col(from[c].first) * from[c].second;
    return detail::primal_weights(store, layers, rows, image_a, params.preprocessing, norms,
                                  params.gram, reporter);
  }
  Bags training;  // w = sum_b a_b f_b max_i scale_i x_i: one max-pooled pass per layer
  Eigen::MatrixXd scaled = a;
  for (size_t j = 0; j < bags.size(); ++j) {
    training.genes.push_back(form.bags.genes[static_cast<size_t>(bags[j])]);
    training.rows.push_back(form.bags.rows[static_cast<size_t>(bags[j])]);
    scaled.col(static_cast<Eigen::Index>(j)) *= form.factor[static_cast<size_t>(bags[j])];
  }
  detail::PrimalWeights out;
  int64_t dim = 0;
  for (const auto& layer : layers) dim += store.dim(layer);
  out.weights = Eigen::MatrixXd::Zero(a.rows(), dim);
  int64_t offset = 0;
  for (const auto& layer : layers) {
    visit_max_pooled(store, layer, plan.store_rows, form.scale, training, params.gram,
                     [&](int64_t c0, const Eigen::MatrixXd& pooled) {
                       out.weights.middleCols(offset + c0, pooled.cols()).noalias() +=
                           scaled * pooled;
                     });
    offset += store.dim(layer);
  }
  return out;
}

}  // namespace

StageModel detail::train_stage(const FeatureStoreReader& store,
                               const std::vector<std::string>& layers, const StagePlan& plan,
                               const TrainParams& params, const Reporter& reporter) {
  const bool bag = params.unit == EvaluationUnit::kBag;
  if (bag && params.bag_pool == BagPool::kAttention)
    return detail::train_attention_stage(store, layers, plan, params, reporter);
  BagForm form;  // bag unit only
  std::vector<double> image_norms;
  StageGrams grams = stage_grams(store, layers, plan, params, reporter);
  if (bag) {
    form = to_bags(plan, grams, store, layers, params);
    image_norms = grams.squared_norms;
  }
  const StagePlan& active = bag ? form.plan : plan;
  const auto& stage = active.stage;
  StageModel model;
  model.stage_range = stage.name;
  model.notes = active.notes;
  std::vector<TermResult> results;
  std::vector<double> norms;
  std::vector<int> train_rows;
  {
    results = fit_terms(active, grams, params, reporter);
    model.notes.insert(model.notes.end(), grams.dropped.begin(), grams.dropped.end());
    for (int r : active.train_rows)
      if (!grams.bad[static_cast<size_t>(r)]) {
        train_rows.push_back(r);
        if (!bag && !grams.squared_norms.empty())
          norms.push_back(grams.squared_norms[static_cast<size_t>(r)]);
      }
    grams = StageGrams();
  }  // the Grams are freed before the weight pass
  std::set<std::string> genes;
  for (int r : train_rows) genes.insert(stage.genes[static_cast<size_t>(r)]);
  model.genes.assign(genes.begin(), genes.end());
  model.images = static_cast<int64_t>(train_rows.size());
  if (bag) {  // training images, not bags
    model.images = 0;
    for (int b : train_rows)
      model.images += static_cast<int64_t>(form.bags.rows[static_cast<size_t>(b)].size());
  }
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
    term.cv = detail::quality(r.cv);
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
  auto primal =
      bag ? bag_weights(store, layers, plan, form, train_rows, a, params, image_norms, reporter)
          : detail::primal_weights(store, layers, rows, a, params.preprocessing, norms, params.gram,
                                   reporter);
  model.weights = primal.weights.cast<float>();
  model.mean = std::move(primal.mean);
  model.scale = std::move(primal.scale);
  return model;
}

}  // namespace ishannot
