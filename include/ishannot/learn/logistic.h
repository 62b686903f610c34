#pragma once
// l2-regularised logistic regression, the paper's classifier, in two exact solvers:
//
//   minimise  0.5 ||w||^2 + C * sum_i log(1 + exp(-y_i (w . x_i + b)))     (y_i in {-1, +1})
//
// The bias b is NOT regularised. With D (up to ~400k) >> n (a few thousand) the fast route is the
// kernel (representer) form: w = X^T a, so the problem only needs the Gram matrix K = X X^T and
// the decision value of any x is sum_j a_j (x . x_j) + b. fit_kernel_logistic solves it by Newton's
// method on (a, b) using the numerically stable formulation of Rasmussen & Williams (GPML,
// Algorithm 3.1: solves with B = I + W^1/2 (C K) W^1/2, whose eigenvalues are >= 1, so singular
// Gram matrices are fine), extended with the unregularised bias by a Schur complement. The solves
// are exact (a Cholesky factor of B, or conjugate gradients preconditioned by the factor of an
// earlier or a float32 B, to relative residual 1e-12; src/learn/newton_system.h).
// fit_primal_logistic is the reference: Newton on (w, b) directly (for small D).
#include <Eigen/Dense>
#include <cstdint>
#include <string>
#include <vector>

namespace ishannot {

struct LogisticParams {
  double C = 1.0;  ///< inverse regularisation strength (as LIBLINEAR / scikit-learn)
  /// Stop when the Newton decrement^2 / 2 < tolerance * (1 + objective), after one last full
  /// step: Newton converges quadratically there, so that step leaves a decrement of ~1e-14 (the
  /// decision values within ~1e-7 of those at 1e-10, one Newton step fewer; bench_logistic
  /// --tolerance/--compare, docs/bench/classifier.md).
  double tolerance = 1e-8;
  int max_iterations = 100;
  /// fit_kernel_logistic at m >= 512: factor the Newton matrix in float32, as the preconditioner
  /// of conjugate gradients against the exact double operator (~2x faster at m ~ 4,000, same
  /// optimum); false factors it in double (the reference path). Falls back to double by itself
  /// when float32 cannot factor or precondition the matrix.
  bool float_factor = true;
  std::string check() const;
};

/// A kernel-form model: decision(x) = sum_j coef[j] * k(x, x_j) + bias over its training rows.
struct KernelLogisticModel {
  Eigen::VectorXd coef;  ///< a (representer coefficients), one per training row
  double bias = 0;
  int iterations = 0;
  bool converged = false;
  int factorizations = 0;  ///< factorisations of the Newton matrix B (solver statistics)
  int cg_iterations = 0;   ///< preconditioned CG iterations over all solves (solver statistics)
};

/// Fits on the Gram matrix of the training rows (m x m, symmetric PSD) and labels (0/1).
/// `warm_start` (optional): a previous model of the same rows (e.g. for a neighbouring C).
KernelLogisticModel fit_kernel_logistic(const Eigen::MatrixXd& gram,
                                        const std::vector<uint8_t>& labels,
                                        const LogisticParams& params,
                                        const KernelLogisticModel* warm_start = nullptr);

/// A primal model: decision(x) = weights . x + bias.
struct PrimalLogisticModel {
  Eigen::VectorXd weights;
  double bias = 0;
  int iterations = 0;
  bool converged = false;
};

/// Reference solver on the feature matrix (m x d, d small enough for a d x d Newton system).
PrimalLogisticModel fit_primal_logistic(const Eigen::MatrixXd& features,
                                        const std::vector<uint8_t>& labels,
                                        const LogisticParams& params);

/// The logistic function, overflow-safe.
double sigmoid(double z);

}  // namespace ishannot
