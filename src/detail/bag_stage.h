#pragma once
// Internal to the evaluation protocol (src/eval/): the bag level of `evaluate --unit bag`. A stage
// range's image problem becomes a problem whose rows are gene x stage-range bags (eval/bags.h),
// with the bags' pooled Gram matrices, so that the image level's (term, fold) tasks, fit_term and
// metrics run on bags unchanged; finish_bag_level then turns the tasks' rows into group rows.
#include <Eigen/Dense>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "detail/evaluation_stage.h"
#include "ishannot/eval/bags.h"

namespace ishannot::detail {

/// Where max pooling reads a layer configuration's image vectors: one store, the store row of
/// every problem row, the configuration's layers (a concatenation: its Gram is the sum over them).
struct MaxPoolSource {
  const FeatureStoreReader* store = nullptr;
  std::vector<int64_t> rows;
  std::vector<std::string> layers;
};

/// The bags' own problem: one row per bag (matched.images[b]: id and gene = the bag's gene),
/// labelled with its group's terms (the union of its images' labels, which agree: they are the
/// group's), its gene and outer fold (its images'), the image stage's skip_term.
EvaluationStage bag_stage_of(const EvaluationStage& stage, const Bags& bags);

/// One layer configuration of a stage range at the bag level.
struct BagProblem {
  EvaluationStage stage;               ///< rows = bags; matched.images[b].id = the bag's gene
  std::vector<Eigen::MatrixXd> grams;  ///< pooled, preprocessed but not yet l2-normalised
  std::vector<uint8_t> bad;            ///< per bag (all 0: bags hold usable images only)
  Bags bags;                           ///< per bag: its image rows (rows of the image problem)
};

/// Builds the bags of `stage` for one configuration: rows flagged `bad` are left out of their
/// bags (a note per kind in `skipped`: bags that lost images, to the store or to bad rows, and
/// bags left without any image), then the pooled Grams from `image_grams` (raw, as stage_grams
/// makes them) and, for max pooling, one pass per layer over `source`. Attention pooling makes no
/// Gram (grams stays empty): classify_attention learns from the image Grams.
BagProblem make_bag_problem(const Dataset& dataset, const EvaluationStage& stage,
                            const std::string& config,
                            const std::vector<Eigen::MatrixXd>& image_grams,
                            const std::vector<uint8_t>& bad, const MaxPoolSource& source,
                            const EvaluationParams& params, std::vector<SkipRow>& skipped);

/// Attention MIL on the bags of `bag` (evaluation_attention.cpp): per outer fold, kernel-PCA
/// coordinates of the images from their Gram (`image_grams`: raw, one or one per fold), one model
/// for all the stage range's terms trained on the training bags, scored on the test bags. Adds
/// the same prediction (one per bag, id = gene), metric, skip and note rows as the (term, fold)
/// tasks, plus metric `epochs` (the kept model's epoch) in place of `C`.
void classify_attention(const BagProblem& bag, const std::string& config,
                        std::vector<Eigen::MatrixXd> image_grams, const EvaluationParams& params,
                        const Reporter& reporter, EvaluationResult& result);

/// The terms of a bag problem that the tasks evaluate (not skipped for every fold).
std::vector<int> live_terms(const EvaluationStage& stage);

/// One attention fit (shared by evaluate's folds and train): kernel PCA on the images of
/// `train_bags`, every image of the problem projected (data.inputs, columns = image rows), the
/// MIL model of `terms` (problem term indices; data.labels' columns) trained from `seed`.
struct AttentionFit {
  KernelPca pca;
  MilData data;
  MilTraining training;
};
AttentionFit fit_attention(const BagProblem& bag, const Eigen::MatrixXd& gram,
                           const std::vector<int>& terms, const std::vector<int>& train_bags,
                           uint64_t seed, const EvaluationParams& params);
/// The fitted model on bag `bag`'s coordinates.
MilOutput score_bag(const AttentionFit& fit, int bag);
/// One outer fold of classify_attention: its training bags fitted, its test bags scored (the
/// rows a (term, fold) task gives, for every term of `terms`).
TaskOutput attention_fold(const BagProblem& bag, const Eigen::MatrixXd& gram,
                          const std::vector<int>& terms, int fold, const std::string& config,
                          const EvaluationParams& params);

/// Images pooled per (layer configuration, stage range, gene): the sizes of BagProblem::bags.
using BagSizes = std::map<std::tuple<std::string, std::string, std::string>, int>;

/// Turns the bag-level task rows into group rows: predictions -> group_predictions (the bag's
/// images counted), metrics auc, accuracy, ... -> group_auc, group_accuracy, ..., plus group_f1
/// per (term, fold); the image prediction table is left empty.
void finish_bag_level(EvaluationResult& result, const EvaluationParams& params,
                      const BagSizes& sizes);

}  // namespace ishannot::detail
