// evaluate --unit bag --bag-pool attention (detail/bag_stage.h): per outer fold, kernel-PCA
// coordinates of the images fitted on the fold's training images, one gated-attention MIL model
// for all terms of the stage range trained on the training bags, scores of the test bags.
#include <chrono>
#include <cmath>
#include <mutex>

#include "detail/bag_stage.h"
#include "detail/parallel.h"
#include "ishannot/common/format.h"
#include "ishannot/common/seed.h"
#include "ishannot/learn/logistic.h"

namespace ishannot::detail {

std::vector<int> live_terms(const EvaluationStage& stage) {
  std::vector<int> terms;
  for (size_t t = 0; t < stage.problem.terms.size(); ++t)
    if (!stage.skip_term[t]) terms.push_back(static_cast<int>(t));
  return terms;
}

AttentionFit fit_attention(const BagProblem& bag, const Eigen::MatrixXd& gram,
                           const std::vector<int>& terms, const std::vector<int>& train_bags,
                           uint64_t seed, const EvaluationParams& params) {
  AttentionFit fit;
  std::vector<uint8_t> in_train(static_cast<size_t>(bag.bags.size()), 0);
  for (int b : train_bags) in_train[static_cast<size_t>(b)] = 1;
  std::vector<int> train_images, all_images;
  for (int b = 0; b < bag.bags.size(); ++b)
    for (int r : bag.bags.rows[static_cast<size_t>(b)]) {
      all_images.push_back(r);
      if (in_train[static_cast<size_t>(b)]) train_images.push_back(r);
    }
  fit.pca = fit_kernel_pca(gram, train_images, params.pca);
  MilData& data = fit.data;
  data.inputs = Eigen::MatrixXd::Zero(fit.pca.components(), gram.rows());
  const Eigen::MatrixXd coords = kernel_pca_project(gram, fit.pca, all_images);
  for (size_t i = 0; i < all_images.size(); ++i)
    data.inputs.col(all_images[i]) = coords.col(static_cast<Eigen::Index>(i));
  data.bags = bag.bags.rows;
  data.genes = bag.bags.genes;
  data.labels.resize(bag.bags.size(), static_cast<Eigen::Index>(terms.size()));
  for (int b = 0; b < bag.bags.size(); ++b)
    for (size_t k = 0; k < terms.size(); ++k)
      data.labels(b, static_cast<Eigen::Index>(k)) = bag.stage.problem.label(b, terms[k]);
  fit.training = train_attention_mil(data, train_bags, params.attention, seed);
  return fit;
}

MilOutput score_bag(const AttentionFit& fit, int bag) {
  const auto& rows = fit.data.bags[static_cast<size_t>(bag)];
  Eigen::MatrixXd z(fit.data.inputs.rows(), static_cast<Eigen::Index>(rows.size()));
  for (size_t i = 0; i < rows.size(); ++i)
    z.col(static_cast<Eigen::Index>(i)) = fit.data.inputs.col(rows[i]);
  return attention_mil_forward(fit.training.model, z);
}

TaskOutput attention_fold(const BagProblem& bag, const Eigen::MatrixXd& gram,
                          const std::vector<int>& terms, int fold, const std::string& config,
                          const EvaluationParams& params) {
  TaskOutput out;
  const EvaluationStage& stage = bag.stage;
  std::vector<int> train_bags, test_bags;
  size_t train_images = 0;
  for (int b = 0; b < bag.bags.size(); ++b) {
    const bool test = stage.folds[static_cast<size_t>(b)] == fold;
    (test ? test_bags : train_bags).push_back(b);
    if (!test) train_images += bag.bags.rows[static_cast<size_t>(b)].size();
  }
  if (test_bags.empty() || train_images < 2) {
    out.skipped.push_back(
        {config, stage.name, "", fold, "no test bag or too few training images in this fold"});
    return out;
  }
  const AttentionFit fit = fit_attention(
      bag, gram, terms, train_bags,
      derive_seed(params.seed,
                  {stream(SeedStream::kAttentionMil), stage.index, static_cast<uint64_t>(fold)}),
      params);
  if (!fit.training.note.empty())
    out.notes.push_back({config, stage.name, "", fold, fit.training.note});
  std::vector<MilOutput> scored;
  for (int b : test_bags) scored.push_back(score_bag(fit, b));
  for (size_t k = 0; k < terms.size(); ++k) {
    const int t = terms[k];
    const std::string& term = stage.problem.terms[static_cast<size_t>(t)];
    int train_pos = 0;
    for (int b : train_bags) train_pos += stage.problem.label(b, t);
    if (train_pos == 0 || train_pos == static_cast<int>(train_bags.size())) {
      out.skipped.push_back({config, stage.name, term, fold,
                             std::string("training folds have no ") +
                                 (train_pos == 0 ? "positives" : "negatives") + " (" +
                                 plural(static_cast<int>(train_bags.size()), "bag") + ")"});
      continue;
    }
    std::vector<double> score;
    std::vector<uint8_t> vote, labels;
    for (size_t j = 0; j < test_bags.size(); ++j) {
      const int b = test_bags[j];
      score.push_back(sigmoid(scored[j].logits(static_cast<Eigen::Index>(k))));
      vote.push_back(score.back() >= 0.5 ? 1 : 0);
      labels.push_back(stage.problem.label(b, t));
      const auto& id = stage.matched.images[static_cast<size_t>(b)].id;
      out.predictions.push_back({id, stage.genes[static_cast<size_t>(b)], stage.name, config, term,
                                 fold, labels.back(), score.back(), vote.back(), vote.back(), 1});
    }
    out.metrics.push_back({params.method, config, stage.name, term, fold, "epochs",
                           static_cast<double>(fit.training.best_epoch)});
    add_test_metrics(out, stage, t, fold, config, params, vote, score, labels);
  }
  return out;
}

void classify_attention(const BagProblem& bag, const std::string& config,
                        std::vector<Eigen::MatrixXd> grams, const EvaluationParams& params,
                        const Reporter& reporter, EvaluationResult& result) {
  const auto start = std::chrono::steady_clock::now();
  if (params.preprocessing == Preprocessing::kL2)
    for (auto& k : grams) l2_normalise_gram(k);
  const std::vector<int> terms = live_terms(bag.stage);
  std::vector<TaskOutput> outputs(static_cast<size_t>(params.folds));
  LoopErrors errors;
  std::mutex mutex;
  int64_t done = 0;
  const std::string label = "attention MIL " + bag.stage.name + " " + config;
  if (!terms.empty()) {
#pragma omp parallel for schedule(dynamic)
    for (int f = 0; f < params.folds; ++f)
      errors.run(f, [&] {
        const auto& gram = grams.size() > 1 ? grams[static_cast<size_t>(f)] : grams[0];
        outputs[static_cast<size_t>(f)] = attention_fold(bag, gram, terms, f, config, params);
        std::lock_guard<std::mutex> lock(mutex);
        reporter.report(label, ++done, params.folds);
      });
    errors.rethrow();
  }
  for (auto& o : outputs) append_output(result, std::move(o));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.seconds["classify/" + bag.stage.name + "/" + config] = seconds;
  reporter.info(bag.stage.name + " " + config + ": attention MIL, " + plural(params.folds, "fold") +
                " in " + format_duration(seconds));
}

}  // namespace ishannot::detail
