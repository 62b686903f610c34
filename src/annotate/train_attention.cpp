// train --unit bag --bag-pool attention (detail/train_plan.h): one stage range's attention-MIL
// stage. Cross-validation runs evaluate's own attention folds (detail/bag_stage.h), so the terms'
// quality and calibration are evaluate's out-of-fold numbers; the final model is fitted on the
// training bags; the kernel-PCA projection is mapped to primal form for annotate.
#include <cmath>
#include <map>
#include <set>

#include "detail/bag_stage.h"
#include "detail/parallel.h"
#include "detail/primal_weights.h"
#include "detail/train_plan.h"
#include "ishannot/common/seed.h"

namespace ishannot::detail {

namespace {

struct CvResult {
  std::vector<MetricRow> metrics;
  std::vector<double> scores;
  std::vector<uint8_t> labels;
};

// Evaluate's attention folds over the stage's bags: per term name, its metrics and out-of-fold
// scores.
std::map<std::string, CvResult> cross_validate(const BagProblem& bag, const Eigen::MatrixXd& gram,
                                               const StagePlan& plan,
                                               const EvaluationParams& eval) {
  std::map<std::string, CvResult> out;
  const std::vector<int> terms = live_terms(bag.stage);
  if (!plan.cross_validate || terms.empty()) return out;
  std::vector<TaskOutput> folds(static_cast<size_t>(plan.folds));
  LoopErrors errors;
#pragma omp parallel for schedule(dynamic)
  for (int f = 0; f < plan.folds; ++f)
    errors.run(f, [&] {
      folds[static_cast<size_t>(f)] = attention_fold(bag, gram, terms, f, "cv", eval);
    });
  errors.rethrow();
  for (const auto& fold : folds) {
    for (const auto& m : fold.metrics) out[m.term].metrics.push_back(m);
    for (const auto& p : fold.predictions) {
      out[p.term].scores.push_back(p.score);
      out[p.term].labels.push_back(static_cast<uint8_t>(p.label));
    }
  }
  return out;
}

// The stage's bag problem: every usable problem row in its gene's bag.
BagProblem bag_problem(const StagePlan& plan, const StageGrams& grams) {
  const auto& stage = plan.stage;
  std::vector<const ImageRecord*> images;
  for (int i = 0; i < stage.problem.rows(); ++i)
    images.push_back(
        &stage.matched
             .images[static_cast<size_t>(stage.problem.image_indices[static_cast<size_t>(i)])]);
  BagProblem bag;
  bag.bags = make_bags(images, grams.bad, stage.matched.source);
  bag.stage = bag_stage_of(stage, bag.bags);
  for (const auto& rows : bag.bags.rows) bag.images.push_back(static_cast<int>(rows.size()));
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
  const auto cv = cross_validate(bag, grams.final_gram, plan, eval);
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
  const AttentionFit fit = fit_attention(bag, grams.final_gram, terms, train_bags, seed, eval);
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
