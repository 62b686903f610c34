#pragma once
// `ishannot train`: the models a user applies to new images, written as a model bundle
// (model_bundle.h). For every stage range:
//   1. the dataset's images with features in the store, the terms (top-k as evaluate, or given
//      explicitly, or every term with at least N positive genes) and evaluate's outer folds
//      (data/folds.h outer_folds, same --seed, --folds and term selection);
//   2. one Gram matrix of the (concatenated) layers, streamed from the store as evaluate does;
//   3. per term: the cross-validated quality (the very tasks of evaluate: same folds, seeds, C
//      selection and ensemble, so cv_auc is evaluate's AUC averaged over folds), then the final
//      fit (eval/term_fit.h) on the training genes: all genes (seed stream kTrainModel), or the
//      genes outside outer fold F (seed of evaluate's task for fold F: the same ensemble
//      evaluate tested on fold F), or listed genes;
//   4. per term, a calibration of its score (eval/calibration.h: Platt or isotonic) fitted on the
//      out-of-fold scores of step 3's tasks (none when fewer than 2 folds gave the term an AUC);
//   5. the primal weights w = X^T a of every member, from one more pass over the store (the
//      preprocessing applied as in training), written with the biases and the recipe.
// Stage ranges are written as they finish; a killed run resumes at the first unfinished one.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ishannot/common/progress.h"
#include "ishannot/common/provenance.h"
#include "ishannot/data/dataset.h"
#include "ishannot/data/terms.h"
#include "ishannot/eval/bags.h"
#include "ishannot/eval/calibration.h"
#include "ishannot/eval/term_fit.h"
#include "ishannot/features/feature_store.h"
#include "ishannot/learn/attention_mil.h"
#include "ishannot/learn/gram.h"
#include "ishannot/learn/kernel_pca.h"

namespace ishannot {

struct TrainParams {
  std::string method = "TL";              ///< label of the features (TL, TL+MTL, SC...)
  std::vector<std::string> layers;        ///< concatenated in this order; empty = all of the store
  std::vector<std::string> stage_ranges;  ///< empty = all of the dataset's except "1-3"
  TermSelectionParams terms;              ///< top-k terms; also stratifies the folds
  std::vector<std::string> explicit_terms;  ///< train these terms instead of the top-k
  int min_positive_genes = 0;  ///< > 0: every term with at least this many positive genes
  int folds = 5;               ///< grouped CV folds for the terms' quality (0: none); K of fold
  int fold = -1;               ///< >= 0: train on the genes outside evaluate's outer fold F
  std::vector<std::string> train_genes;  ///< non-empty: train on these genes only
  TermFitParams fit;                     ///< C grid, inner CV, ensemble size M (odd)
  Preprocessing preprocessing = Preprocessing::kL2;
  GramParams gram;
  FeatureDtype weights_dtype = FeatureDtype::kFloat32;
  /// kBag: learn from gene x stage-range bags (eval/bags.h), pooled by bag_pool (mean or max):
  /// the bundle's root attributes unit = "bag" and bag_pool say so, its weights apply to a bag's
  /// pooled vector, its positives/negatives count training bags.
  EvaluationUnit unit = EvaluationUnit::kImage;
  BagPool bag_pool = BagPool::kMean;
  /// bag_pool kAttention: an attention-MIL stage (model_bundle.h StageModel::mil; M = 1) from
  /// kernel-PCA coordinates; attention.seed is ignored (derived from seed, as evaluate's).
  KernelPcaParams pca;
  AttentionMilParams attention;
  /// Fitted per term on its out-of-fold CV scores when they gave an AUC on >= 2 folds
  /// (docs/ANNOTATE.md: why Platt is the default)
  CalibrationMethod calibration = CalibrationMethod::kPlatt;
  uint64_t seed = 1234;
  bool resume = true;  ///< continue OUT.partial written by the same configuration
  /// Root attributes of the bundle: tool_version, created_by, training_data (the dataset's
  /// source when the caller names no `training_data` input) ...
  Provenance provenance;
  std::string check() const;
};

struct TrainSummary {
  std::vector<std::string> stage_ranges;  ///< trained (or resumed) stage ranges
  int terms = 0;                          ///< term models written
  int resumed_stages = 0;
  std::vector<std::string> notes;  ///< what was not trained and why
  double seconds = 0;
};

/// Trains and writes the bundle to `out_path` (via OUT.partial). Throws Error for unusable input
/// as a whole (no image with features, no layer, no term to train, --fold with too few genes).
TrainSummary train_model(const Dataset& dataset, const FeatureStoreReader& store,
                         const TrainParams& params, const std::string& out_path,
                         const Reporter& reporter = {});

}  // namespace ishannot
