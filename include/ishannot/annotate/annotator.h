#pragma once
// Applying one stage range's models of a bundle to feature rows: preprocessing as in training,
// every member's decision value w . pre(x) + b (one matrix product per batch), the term's score
// (mean member probability), votes and label; and the evidence map of a term on one image.
//
// The evidence map: with spatial features (a map flattened whole or pooled to a grid, recipe.h),
// the ensemble's mean decision value splits exactly over the grid cells:
//   mean_k (w_k . z + b_k) = sum over layers and cells c of  wbar_c . z_c  +  mean_k b_k
// (z = pre(x), wbar = the members' mean weights, z_c = the channels of cell c). contributions()
// returns the wbar_c . z_c per cell, in decision units (log-odds), one grid per layer.
#include <Eigen/Dense>
#include <cstdint>
#include <string>
#include <vector>

#include "ishannot/annotate/model_bundle.h"
#include "ishannot/annotate/recipe.h"

namespace ishannot {

/// Scores of a batch: images x terms, row-major (image i, term t at i * terms + t).
struct BatchScores {
  int64_t images = 0;
  int terms = 0;
  std::vector<double> score;     ///< mean member probability
  std::vector<int> votes;        ///< members with decision > 0
  std::vector<uint8_t> label;    ///< votes >= vote_threshold
  std::vector<double> decision;  ///< mean member decision value (log-odds)
};

class StageAnnotator {
 public:
  /// Takes one stage of the bundle; loads its weights when they are not loaded yet.
  StageAnnotator(const ModelBundle& bundle, StageModel stage);

  const StageModel& stage() const { return stage_; }
  int64_t dim() const { return static_cast<int64_t>(stage_.weights.cols()); }

  /// In place: the bundle's preprocessing of `rows` feature rows (rows x dim, row-major).
  void preprocess(float* features, int64_t rows) const;
  /// Scores preprocessed rows (an ensemble stage).
  BatchScores score(const float* preprocessed, int64_t rows) const;
  /// An attention stage (StageModel::mil_components > 0): the rows' kernel-PCA coordinates,
  /// r x rows (one column per row), the model's input.
  Eigen::MatrixXd project(const float* preprocessed, int64_t rows) const;
  /// Per-cell contributions of term `term` on one preprocessed row, one rows x cols grid per
  /// layer (`grids` from recipe_grids). Their total plus mean_bias(term) is the mean decision.
  std::vector<Eigen::MatrixXd> contributions(const float* preprocessed, int term,
                                             const std::vector<LayerGrid>& grids) const;
  double mean_bias(int term) const;

 private:
  /// rows x weight rows: every weight row's product with every preprocessed row (double sums of
  /// float products, the same at any thread count).
  Eigen::MatrixXd products(const float* preprocessed, int64_t rows) const;
  Preprocessing preprocessing_;
  int models_ = 0, vote_threshold_ = 0;
  StageModel stage_;
  using RowMatrixD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  RowMatrixD mean_weights_;  ///< terms x dim, the members' mean (heat maps)
};

}  // namespace ishannot
