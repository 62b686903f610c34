// train --unit bag --bag-pool attention (detail/train_plan.h): one stage range's attention-MIL
// stage. Cross-validation runs evaluate's own attention folds (detail/bag_stage.h), so the terms'
// quality and calibration are evaluate's out-of-fold numbers; the final model is fitted on the
// training bags; the kernel-PCA projection is mapped to primal form for annotate.
#include <cmath>
#include <map>
#include <set>

#include "annotate/primal_weights.h"
#include "annotate/train_plan.h"
#include "detail/bag_stage.h"
#include "detail/parallel.h"
#include "ishannot/common/seed.h"

namespace ishannot::detail {

namespace {

struct CvResult {
  std::vector<MetricRow> metrics;
  std::vector<double> scores;
  std::vector<uint8_t> labels;
};

// The final fit (on `train_bags`, for `terms`) and evaluate's attention folds (the terms'
// quality and calibration, per term name), as one parallel task list. Each task runs on one
// thread, inside the parallel region, where Eigen stays serial: the bundle is the same for any
// thread count, as evaluate's folds are.
struct StageFits {
  AttentionFit final_fit;
  std::map<std::string, CvResult> cv;
};

StageFits fit_stage(const BagProblem& bag, const Eigen::MatrixXd& gram, const StagePlan& plan,
                    const EvaluationParams& eval, const std::vector<int>& terms,
                    const std::vector<int>& train_bags, uint64_t seed) {
  const std::vector<int> cv_terms = live_terms(bag.stage);
  const int folds = plan.cross_validate && !cv_terms.empty() ? plan.folds : 0;
  StageFits out;
  std::vector<TaskOutput> fold_out(static_cast<size_t>(folds));
  LoopErrors errors;
#pragma omp parallel for schedule(dynamic)
  for (int k = 0; k <= folds; ++k)  // task 0: the final fit, the longest
    errors.run(k, [&] {
      if (k == 0)
        out.final_fit = fit_attention(bag, gram, terms, train_bags, seed, eval);
      else
        fold_out[static_cast<size_t>(k - 1)] =
            attention_fold(bag, gram, cv_terms, k - 1, "cv", eval);
    });
  errors.rethrow();
  for (const auto& fold : fold_out) {
    for (const auto& m : fold.metrics) out.cv[m.term].metrics.push_back(m);
    for (const auto& p : fold.predictions) {
      out.cv[p.term].scores.push_back(p.score);
      out.cv[p.term].labels.push_back(static_cast<uint8_t>(p.label));
    }
  }
  return out;
}

// The stage's bag problem: every usable problem row in its gene's bag.
BagProblem bag_problem(const StagePlan& plan, const StageGrams& grams) {
  BagProblem bag;
  bag.bags = make_bags(problem_images(plan.stage), grams.bad, plan.stage.matched.source);
  bag.stage = bag_stage_of(plan.stage, bag.bags);
  return bag;
}

// The projection P = X_Tᵀ D in primal form (kernel_pca.h), and its offset Dᵀ m.
void add_projection(const FeatureStoreReader& store, const std::vector<std::string>& layers,
                    const StagePlan& plan, const StageGrams& grams, const KernelPca& pca,
                    const TrainParams& params, const Reporter& reporter, StageModel& model) {
  std::vector<int64_t> rows;
  std::vector<double> norms;
  for (int r : pca.train_rows) {
    rows.push_back(plan.store_rows[static_cast<size_t>(r)]);
    norms.push_back(grams.squared_norms[static_cast<size_t>(r)]);
  }
  const Eigen::MatrixXd coefficients = pca.directions.transpose();
  const PrimalWeights primal = primal_weights(store, layers, rows, coefficients,
                                              params.preprocessing, norms, params.gram, reporter);
  model.weights = primal.weights.cast<float>();
  model.mil_components = pca.components();
  model.projection_offset = pca.directions.transpose() * pca.column_mean;
}

}  // namespace

StageModel train_attention_stage(const FeatureStoreReader& store,
                                 const std::vector<std::string>& layers, const StagePlan& plan,
                                 const TrainParams& params, const Reporter& reporter) {
  const StageGrams grams = stage_grams(store, layers, plan, params, reporter);
  const BagProblem bag = bag_problem(plan, grams);
  const EvaluationStage& stage = bag.stage;
  EvaluationParams eval = task_params(params);
  eval.unit = EvaluationUnit::kBag;
  eval.level = EvaluationLevel::kGroup;
  eval.bag_pool = BagPool::kAttention;
  eval.pca = params.pca;
  eval.attention = params.attention;
  StageModel model;
  model.stage_range = stage.name;
  model.notes = plan.notes;
  model.notes.insert(model.notes.end(), grams.dropped.begin(), grams.dropped.end());
  // The final fit: the bags of the training rows, the terms with both classes among them.
  const std::set<int> train_rows(plan.train_rows.begin(), plan.train_rows.end());
  std::vector<int> train_bags, terms;
  std::set<std::string> genes;
  for (int b = 0; b < bag.bags.size(); ++b)
    if (train_rows.count(bag.bags.rows[static_cast<size_t>(b)].front())) {
      train_bags.push_back(b);
      genes.insert(bag.bags.genes[static_cast<size_t>(b)]);
      model.images += static_cast<int64_t>(bag.bags.rows[static_cast<size_t>(b)].size());
    }
  model.genes.assign(genes.begin(), genes.end());
  for (int t = 0; t < static_cast<int>(stage.problem.terms.size()); ++t) {
    int pos = 0;
    for (int b : train_bags) pos += stage.problem.label(b, t);
    if (pos > 0 && pos < static_cast<int>(train_bags.size()))
      terms.push_back(t);
    else
      model.notes.push_back("term '" + stage.problem.terms[static_cast<size_t>(t)] +
                            "' not trained: its training bags have no " +
                            (pos == 0 ? "positive" : "negative"));
  }
  if (terms.empty() || train_bags.size() < 2) return model;
  const uint64_t seed =
      derive_seed(params.seed, {stream(SeedStream::kAttentionMil), stage.index,
                                params.fold >= 0 ? static_cast<uint64_t>(params.fold) : ~0ULL});
  const StageFits fits = fit_stage(bag, grams.final_gram, plan, eval, terms, train_bags, seed);
  const AttentionFit& fit = fits.final_fit;
  const auto& cv = fits.cv;
  if (!fit.training.note.empty()) model.notes.push_back(fit.training.note);
  model.mil = fit.training.model;
  for (size_t k = 0; k < terms.size(); ++k) {
    const int t = terms[k];
    TermModel term;
    term.term = stage.problem.terms[static_cast<size_t>(t)];
    term.bias = {model.mil.b(static_cast<Eigen::Index>(k), 0)};
    std::set<std::string> positive_genes;
    for (int b : train_bags) {
      const bool positive = stage.problem.label(b, t);
      (positive ? term.positives : term.negatives) += 1;
      if (positive) positive_genes.insert(stage.genes[static_cast<size_t>(b)]);
    }
    term.positive_genes = static_cast<int64_t>(positive_genes.size());
    if (auto it = cv.find(term.term); it != cv.end()) {
      term.cv = quality(it->second.metrics);
      term.calibration =
          fit_calibration(term.cv.folds >= 2 ? params.calibration : CalibrationMethod::kNone,
                          it->second.scores, it->second.labels);
    } else {
      term.cv = quality({});
    }
    model.terms.push_back(std::move(term));
  }
  add_projection(store, layers, plan, grams, fit.pca, params, reporter, model);
  return model;
}

}  // namespace ishannot::detail
