#pragma once
// Internal, shared by the evaluation protocol (src/eval/) and `train` (src/annotate/train_plan.cpp,
// which plans a stage range exactly as evaluate does): one stage range's problem matched to the
// store rows, and the task that evaluates one (term, outer fold) on a Gram matrix.
#include <Eigen/Dense>
#include <cstdint>
#include <string>
#include <vector>

#include "ishannot/data/dataset.h"
#include "ishannot/data/terms.h"
#include "ishannot/eval/evaluation.h"

namespace ishannot::detail {

/// One stage range's problem, matched to the store rows.
struct EvaluationStage {
  std::string name;
  uint64_t index = 0;  ///< position in stage_range_names(), for seeds
  StageProblem problem;
  std::vector<std::string> genes;  ///< per problem row
  std::vector<int> folds;          ///< per problem row: outer fold (data/folds.h)
  std::vector<uint8_t> skip_term;  ///< per term: skipped for every fold (single gene...)
  Dataset matched;                 ///< the stage range's images with features in all its stores
};

/// What one task adds to the result.
struct TaskOutput {
  std::vector<MetricRow> metrics;
  std::vector<PredictionRow> predictions;
  std::vector<SkipRow> skipped;
  std::vector<SkipRow> notes;
};

/// Evaluates term `term` on outer fold `fold`: C by inner grouped CV on the training rows, the
/// under-sampling ensemble on the training rows, metrics on the test rows. Rows flagged in `bad`
/// (non-finite features) take no part. `gram` is the (preprocessed) Gram matrix of the stage's
/// problem rows that this fold reads.
TaskOutput run_evaluation_task(const Eigen::MatrixXd& gram, const EvaluationStage& stage,
                               const std::vector<uint8_t>& bad, int term, int fold,
                               const std::string& layer, const EvaluationParams& params);

/// The test metrics of one (term, fold) from its votes, scores and labels: auc, accuracy,
/// sensitivity, specificity (each when defined), test_positives, test_negatives, with a skip row
/// when the test fold lacks a class.
void add_test_metrics(TaskOutput& out, const EvaluationStage& stage, int term, int fold,
                      const std::string& layer, const EvaluationParams& params,
                      const std::vector<uint8_t>& vote, const std::vector<double>& score,
                      const std::vector<uint8_t>& labels);

/// run_evaluation with --protocol groups-shuffled (protocol.cpp): the pooled dataset evaluated as
/// the one stage range kPooledStageRange; a store with finetune_genes is an Error naming it.
EvaluationResult run_groups_shuffled(const Dataset& dataset, const FoldStores& stores,
                                     const EvaluationParams& params, const Reporter& reporter);

/// The image of every problem row of `stage`, in row order.
std::vector<const ImageRecord*> problem_images(const EvaluationStage& stage);

/// Moves one task's (or fold's) rows into the result: metrics, predictions, skips, notes.
void append_output(EvaluationResult& result, TaskOutput&& out);

/// "3 images", "1 image".
std::string plural(int n, const std::string& word);

}  // namespace ishannot::detail
