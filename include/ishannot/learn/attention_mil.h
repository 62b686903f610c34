#pragma once
// Gated-attention multiple-instance learning (Ilse, Tomczak & Welling, ICML 2018), multi-label:
// one model per stage range learns all its terms at once from gene x stage-range bags of images
// (eval/bags.h), and says which images carried each call (the attention weights).
//
// For a bag of n images with input vectors z_i (columns of Z, inputs x n; evaluate and train give
// kernel-PCA coordinates, kernel_pca.h):
//   h_i      = relu(A z_i + a)                                      hidden units, shared
//   s_i      = tanh(V h_i + v) ⊙ sigmoid(U h_i + u)                 gated attention features
//   e_ti     = w_tᵀ s_i                                              one attention row per term
//   α_ti     = exp(e_ti) / Σ_j exp(e_tj)                             sums to 1 over the bag
//   logit_t  = c_tᵀ (Σ_i α_ti h_i) + b_t                             score σ(logit_t)
// Loss over a batch B of bags: (1/|B|) Σ_b Σ_t ω_t(y_bt) BCE(y_bt, logit_bt)
//   + weight_decay/2 (‖A‖² + ‖V‖² + ‖U‖² + ‖W‖² + ‖C‖²), with ω from MilWeighting: balanced
//   (the positive and negative bags of a term weigh the same in total, the counterpart of the
//   paper's under-sampling) or none. Gradients are derived by hand (attention_mil.cpp) and checked
//   against finite differences (tests/learn/test_attention_mil.cpp).
// Training: Adam on shuffled batches of bags; early stopping on the weighted loss of a validation
// split of the training bags' genes (never a test gene); the best epoch's model is kept.
// Deterministic: every draw comes from the caller's seed (seed.h), all arithmetic is serial double.
#include <Eigen/Dense>
#include <cstdint>
#include <string>
#include <vector>

namespace ishannot {

enum class MilWeighting { kBalanced, kNone };
/// "balanced" | "none"; Error otherwise.
MilWeighting parse_mil_weighting(const std::string& name);
std::string mil_weighting_name(MilWeighting weighting);

struct AttentionMilParams {
  int hidden = 64;                   ///< units of h
  int attention = 32;                ///< units of s
  int max_epochs = 200;              ///< passes over the training bags, at most
  int patience = 20;                 ///< epochs without a better validation loss before stopping
  int batch_bags = 16;               ///< bags per Adam step
  double learning_rate = 1e-3;       ///< Adam's step size
  double weight_decay = 1e-3;        ///< l2 on the weight matrices (not the biases)
  double validation_fraction = 0.2;  ///< of the training genes, for early stopping
  MilWeighting weighting = MilWeighting::kBalanced;
  std::string check() const;
};

/// The model's parameters (vectors are one-column matrices, so that all nine are alike).
struct AttentionMil {
  Eigen::MatrixXd A, a;  ///< hidden x inputs, hidden x 1
  Eigen::MatrixXd V, v;  ///< attention x hidden, attention x 1
  Eigen::MatrixXd U, u;  ///< attention x hidden, attention x 1
  Eigen::MatrixXd W;     ///< terms x attention
  Eigen::MatrixXd C, b;  ///< terms x hidden, terms x 1
  int inputs() const { return static_cast<int>(A.cols()); }
  int terms() const { return static_cast<int>(W.rows()); }
  /// The nine parameters, in the order above.
  std::vector<Eigen::MatrixXd*> parameters();
  std::vector<const Eigen::MatrixXd*> parameters() const;
};

/// A model of the right shapes: Glorot-uniform weights drawn from `seed`, zero biases.
AttentionMil init_attention_mil(int inputs, int terms, const AttentionMilParams& params,
                                uint64_t seed);

/// One bag through the model: z = inputs x n (n >= 1).
struct MilOutput {
  Eigen::VectorXd logits;     ///< per term
  Eigen::MatrixXd attention;  ///< terms x n, each row sums to 1
};
MilOutput attention_mil_forward(const AttentionMil& model, const Eigen::MatrixXd& z);

/// The learning problem: image vectors and the bags over them.
struct MilData {
  Eigen::MatrixXd inputs;              ///< inputs x images
  std::vector<std::vector<int>> bags;  ///< per bag: its image columns, never empty
  Eigen::MatrixXd labels;              ///< bags x terms, 0 or 1
  std::vector<std::string> genes;      ///< per bag (the validation split is by gene)
};

/// Per-term loss weights ω_t(y): 2 x terms (row 0: negatives, row 1: positives), computed on
/// `bags`; a term without positives (or negatives) there gets weight 1 for the class present.
Eigen::MatrixXd mil_term_weights(const MilData& data, const std::vector<int>& bags,
                                 MilWeighting weighting);

/// The loss of `batch` (bag indices; see above) and, when `gradient` is given (a model of the
/// same shapes), its gradient with respect to every parameter.
double attention_mil_loss(const AttentionMil& model, const MilData& data,
                          const std::vector<int>& batch, const Eigen::MatrixXd& term_weights,
                          double weight_decay, AttentionMil* gradient);

struct MilTraining {
  AttentionMil model;          ///< the best epoch's
  int epochs = 0;              ///< epochs run
  int best_epoch = 0;          ///< 1-based; the kept model's
  double validation_loss = 0;  ///< its validation loss (NaN without a validation split)
  int validation_bags = 0;
  std::string note;  ///< e.g. "too few genes for a validation split: ..."
};

/// Trains on the bags `train` of `data` (early stopping on a split of their genes); `seed` (a
/// derive_seed path) draws the initial weights, the validation genes and the batch order.
MilTraining train_attention_mil(const MilData& data, const std::vector<int>& train,
                                const AttentionMilParams& params, uint64_t seed);

}  // namespace ishannot
