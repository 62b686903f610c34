#pragma once
// Kernel PCA on a precomputed Gram matrix: the coordinates of every row of the Gram on the
// principal directions of a set of training rows, without the feature vectors themselves. The
// attention-MIL bag learner (attention_mil.h) works on these coordinates, so that its memory is a
// few dozen numbers per image whatever the feature width (paper size: 401,408).
//
// With K the Gram of the (preprocessed) vectors x_i and T the n training rows:
//   Kc = H K_TT H, H = I - 11ᵀ/n (the Gram of the training vectors centred on their mean μ);
//   Kc = U Λ Uᵀ, the r largest eigenvalues kept (r <= components; λ_j > min_ratio · λ_1);
//   coordinate j of any row i: v_jᵀ(x_i - μ) / s with v_j = (X_T - 1μᵀ)ᵀ u_j / sqrt(λ_j) the unit
//   principal direction, computed as u_jᵀ kc_i / sqrt(λ_j) / s from the centred kernel column
//   kc_i = k_Ti - mean_T(K_TT) - mean(k_Ti) + mean(K_TT);
//   s = sqrt(mean_j(λ_j) / n): the training coordinates have mean variance 1 over the kept
//   directions (one scale for all, so the spectrum's shape is kept).
// The same map in primal form (a trained model applied to new images): coordinates =
// Wᵀ x - Dᵀ m with D = U Λ^{-1/2} / s (n x r, KernelPca::directions), W = X_Tᵀ D and
// m = mean_T(K_TT) (KernelPca::column_mean): since 1ᵀu_j = 0, Wᵀ μ = Dᵀ m.
#include <Eigen/Dense>
#include <string>
#include <vector>

namespace ishannot {

struct KernelPcaParams {
  int components = 64;      ///< at most this many directions (fewer when the rank is lower)
  double min_ratio = 1e-9;  ///< directions with λ_j <= min_ratio · λ_1 are dropped
  std::string check() const;
};

struct KernelPca {
  std::vector<int> train_rows;  ///< the rows of the Gram the directions were fitted on
  Eigen::VectorXd column_mean;  ///< per training row t: mean over training columns of K(t, T)
  double grand_mean = 0;        ///< mean of K_TT
  Eigen::MatrixXd directions;   ///< n x r: D = U Λ^{-1/2} / s
  Eigen::VectorXd eigenvalues;  ///< r: λ of Kc, descending
  int components() const { return static_cast<int>(directions.cols()); }
};

/// Fits the directions on `train_rows` of the symmetric `gram` (at least 2 rows). Throws Error
/// when the centred training Gram is zero (all training vectors equal).
KernelPca fit_kernel_pca(const Eigen::MatrixXd& gram, const std::vector<int>& train_rows,
                         const KernelPcaParams& params);

/// Coordinates of `rows` of `gram` (training or not): r x rows.size(), one column per row.
Eigen::MatrixXd kernel_pca_project(const Eigen::MatrixXd& gram, const KernelPca& pca,
                                   const std::vector<int>& rows);

}  // namespace ishannot
