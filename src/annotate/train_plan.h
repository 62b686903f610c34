#pragma once
// Internal to train (src/annotate/train_*.cpp): one stage range's plan — the problem as an
// EvaluationStage (so cross-validation runs evaluate's own tasks), the store row of every problem
// row and the rows the final models learn from.
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "detail/evaluation_stage.h"
#include "ishannot/annotate/model_bundle.h"
#include "ishannot/annotate/train.h"

namespace ishannot::detail {

struct StagePlan {
  EvaluationStage stage;            ///< problem (trained terms), genes, folds, matched;
                                    ///< skip_term: no CV (positives from a single gene)
  std::vector<int64_t> store_rows;  ///< per problem row
  std::vector<int> train_rows;      ///< problem rows the final models learn from (sorted)
  int folds = 0;                    ///< outer folds made (0: none)
  bool cross_validate = false;      ///< run evaluate's tasks for the terms' quality
  std::vector<std::string> notes;
};

/// Plans one stage range of `matched` (the dataset's images with features). Throws Error when the
/// stage range cannot be trained at all (no image, no training gene, --fold with too few genes).
StagePlan plan_stage(const Dataset& matched, const std::string& stage_name, uint64_t stage_index,
                     const std::unordered_map<std::string, int64_t>& row_of,
                     const TrainParams& params);

/// The Grams of one stage range (layers summed, preprocessed): one for every CV fold f (per-fold
/// standardisation statistics) or a single one, and the final fit's. Rows no fit may use (the
/// row filter evaluate applies: NaN/Inf, overflow, all zero) are `bad`, each kind said in
/// `dropped` (train_model.cpp).
struct StageGrams {
  /// One per CV fold with standardise (per-fold statistics); empty otherwise: the CV tasks read
  /// final_gram (the same matrix), never a copy of it.
  std::vector<Eigen::MatrixXd> cv;
  Eigen::MatrixXd final_gram;
  std::vector<uint8_t> bad;
  std::vector<std::string> dropped;   ///< notes in evaluate's words, one per layer and kind
  std::vector<double> squared_norms;  ///< raw diagonal (l2), per problem row
};
StageGrams stage_grams(const FeatureStoreReader& store, const std::vector<std::string>& layers,
                       const StagePlan& plan, const TrainParams& params, const Reporter& reporter);

/// Evaluate's parameters for train's cross-validation tasks.
EvaluationParams task_params(const TrainParams& params);

/// Mean over folds of each CV metric (NaN when no fold defined it).
TermQuality quality(const std::vector<MetricRow>& rows);

/// train --unit bag --bag-pool attention (train_attention.cpp): evaluate's attention folds for
/// the terms' quality and calibration, the final kernel PCA + MIL fit on the training bags, the
/// projection in primal form (primal_weights.cpp).
StageModel train_attention_stage(const FeatureStoreReader& store,
                                 const std::vector<std::string>& layers, const StagePlan& plan,
                                 const TrainParams& params, const Reporter& reporter);

/// Trains one planned stage range: Grams, cross-validated quality (evaluate's tasks), final fits,
/// primal weights. A stage whose terms all failed to train comes back with no terms (and notes).
StageModel train_stage(const FeatureStoreReader& store, const std::vector<std::string>& layers,
                       const StagePlan& plan, const TrainParams& params, const Reporter& reporter);

}  // namespace ishannot::detail
