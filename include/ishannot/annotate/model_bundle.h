#pragma once
// The model bundle: everything `annotate` needs to apply what `train` learned to new images, in
// one versioned HDF5 file readable by h5py/h5dump.
//
// Layout (format version 1; strings are variable-length UTF-8):
//   /                         attributes: format = "ishannot-model-bundle", format_version = 1,
//                             tool_version, created_by (command line), created_utc, method (TL,
//                             TL+MTL, SC...), seed, preprocessing (l2 | none | standardise),
//                             models (M), vote_threshold (votes needed for label 1: (M + 1) / 2),
//                             weights_dtype (float32 | float16), features (the training store),
//                             training_data (dataset source), training_scope ("all genes",
//                             "training genes of outer fold F/K (seed S)", "genes listed in FILE"),
//                             term_selection, c_grid, inner_folds, inner_models, cv_folds,
//                             train_fingerprint (the configuration, for resume)
//   /recipe                   group; attributes: the training store's root attributes as they
//                             were (backbone, weights_path, weights_sha256, input_size,
//                             resize_policy, preprocessing, pooling, layers, finetune_*, sc_*...)
//   /recipe/layers            strings [L]: the layers, in the order they are concatenated
//   /recipe/layer_dims        int64 [L]: values per image of each layer
//   /recipe/layer_shapes      strings [L]: map shape before pooling, "CxHxW" ("" when unknown)
//   /stages/<stage range>     group per stage range ("13-16"); attributes images, genes,
//                             complete = 1 (written last: a group without it is from a killed run)
//     terms                   strings [T]
//     weights                 float32 or float16 [T*M, D]: row t*M + k = primal weights w = X^T a
//                             of member k of term t, D = sum of layer_dims; decision value of an
//                             image x: w . pre(x) + bias (pre: the preprocessing below)
//     bias                    float64 [T, M]
//     C                       float64 [T]: the l2 logistic regression C (inner CV or fixed)
//     positives, negatives    int64 [T]: training images with / without the term
//     positive_genes          int64 [T]: training genes with the term
//     cv_auc, cv_accuracy,    float64 [T]: grouped cross-validation on the training genes, mean
//     cv_sensitivity,                      over folds (the numbers `evaluate` gives with the same
//     cv_specificity                       seed and folds); NaN = not measured (cv_folds 0)
//     cv_folds                int64 [T]: folds that gave a defined AUC
//     genes                   strings: the training genes
//     notes                   strings: terms not trained and why, fallback C notes
//     mean, scale             float32 [D] (preprocessing standardise only): pre(x) = (x - mean) *
//                             scale, fitted on the training images (scale 0: constant dimension)
//     calibration_method      strings [T]: "platt" | "isotonic" | "none" (eval/calibration.h),
//                             fitted on the term's out-of-fold CV scores
//     calibration_ab          float64 [T, 2]: Platt's a, b (1, 0 otherwise)
//     calibration_samples     int64 [T]: out-of-fold scores the calibration was fitted on
//     calibration_knot_counts int64 [T]: isotonic knots per term (0 otherwise)
//     calibration_knots,      float64 [sum of knot counts]: the isotonic knots (scores) and
//     calibration_values                their probabilities, term after term (eval/calibration.h)
// The calibration_* datasets and the root attribute `calibration` (the method asked for) were
// added to format version 1 compatibly: a bundle written before has none of them; it still
// loads, with ModelBundle::calibrated false (annotate then writes no probability and says so).
// Preprocessing: l2 = x / ||x|| over the concatenated layers (0 stays 0); none = x.
// Score of an image for a term = mean over members of sigmoid(decision); votes = members with
// decision > 0; label = 1 when votes >= vote_threshold (the majority; M is odd).
#include <Eigen/Dense>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ishannot/eval/calibration.h"
#include "ishannot/features/feature_store.h"
#include "ishannot/learn/attention_mil.h"
#include "ishannot/learn/gram.h"

namespace ishannot {

constexpr int kModelBundleFormatVersion = 1;
inline constexpr const char* kModelBundleFormat = "ishannot-model-bundle";

/// How the features a bundle expects were made: the training store's root attributes and the
/// layers, in concatenation order.
struct FeatureRecipe {
  std::map<std::string, std::string> attributes;
  std::vector<LayerSpec> layers;
  int64_t dim() const;  ///< sum of the layers' dims
};

/// Cross-validated quality of one term, from training (NaN = not measured).
struct TermQuality {
  double auc, accuracy, sensitivity, specificity;
  int folds = 0;  ///< CV folds with a defined AUC
};

/// One term's ensemble (its weights are rows of StageModel::weights).
struct TermModel {
  std::string term;
  double C = 0;
  std::vector<double> bias;  ///< per member
  int64_t positives = 0, negatives = 0, positive_genes = 0;
  TermQuality cv;
  Calibration calibration;  ///< of the ensemble's score (method kNone: none fitted)
};

using RowMatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// The models of one stage range.
struct StageModel {
  std::string stage_range;
  int64_t images = 0;              ///< training images
  std::vector<std::string> genes;  ///< training genes
  std::vector<TermModel> terms;
  std::vector<std::string> notes;  ///< terms not trained and why, fallback-C notes
  RowMatrixF weights;              ///< (T*M) x D; empty until load_stage_weights
  Eigen::VectorXf mean, scale;     ///< standardise only; empty until loaded
  /// An attention bag stage (train --unit bag --bag-pool attention; M = 1): `weights` is the
  /// r x D kernel-PCA projection P and an image's coordinates are P pre(x) - projection_offset
  /// (learn/kernel_pca.h, primal form); `mil` scores a group's coordinates. Loaded with the
  /// weights (datasets mil_*, checked against the stage's mil_sha256).
  int mil_components = 0;  ///< r; 0 for an ensemble stage
  Eigen::VectorXd projection_offset;
  AttentionMil mil;
  /// Rows of `weights`: mil_components, or terms x models for an ensemble stage.
  int64_t weight_rows(int models) const;
};

struct ModelBundle {
  std::string path;                               ///< where it was read from
  std::map<std::string, std::string> attributes;  ///< root attributes (provenance, config)
  FeatureRecipe recipe;
  Preprocessing preprocessing = Preprocessing::kL2;
  int models = 11;         ///< M
  int vote_threshold = 6;  ///< votes needed for label 1
  FeatureDtype weights_dtype = FeatureDtype::kFloat32;
  bool calibrated = false;  ///< the bundle has calibration datasets (written since they exist)
  std::vector<StageModel> stages;  ///< in biological order

  const StageModel* stage(const std::string& stage_range) const;  ///< nullptr when absent
  std::vector<std::string> stage_ranges() const;
};

/// Whether annotate trusts a term's calls: its CV AUC was measured on >= 2 folds and is >=
/// band.min_auc. An unvalidated term's call is always "uncertain" (eval/calibration.h call_of).
bool term_validated(const TermModel& term, const CallBand& band);

/// Writes a bundle stage by stage to PATH.partial and renames it on close(). With resume = true
/// and a PATH.partial whose train_fingerprint attribute equals attributes["train_fingerprint"],
/// its complete stages are kept (completed()) and incomplete ones dropped; otherwise it starts
/// over. Not thread-safe.
class ModelBundleWriter {
 public:
  ModelBundleWriter(const std::string& path, const ModelBundle& header, bool resume);
  ~ModelBundleWriter();
  ModelBundleWriter(const ModelBundleWriter&) = delete;
  ModelBundleWriter& operator=(const ModelBundleWriter&) = delete;

  /// Stage ranges already complete in the resumed file (with their metadata, no weights).
  const std::vector<StageModel>& completed() const;
  /// Writes one stage range (weights, mean/scale when standardised) and flushes.
  void add_stage(const StageModel& stage);
  /// Closes and renames PATH.partial to PATH. The destructor keeps PATH.partial when unwinding.
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Reads a bundle's header and every stage's metadata (not the weights). Throws Error naming the
/// file when it is missing, not HDF5 or truncated, not a model bundle (e.g. a feature store), of
/// another format version, or lacks a dataset.
ModelBundle read_model_bundle(const std::string& path);

/// Loads the weights (and mean/scale) of one stage of a bundle read by read_model_bundle.
void load_stage_weights(const ModelBundle& bundle, StageModel& stage);

}  // namespace ishannot
