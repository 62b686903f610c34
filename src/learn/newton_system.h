#pragma once
// The linear algebra of fit_kernel_logistic's Newton steps: products with Kc = C K and solves with
// B = I + S Kc S (S = W^1/2), which changes with every step. A factor of B costs O(m^3), a
// solve by preconditioned conjugate gradients O(m^2) per iteration, so a factor is kept across
// steps as the preconditioner of CG against the exact double operator (relative residual 1e-12:
// Newton stays exact) and redone only when CG would cost more than a new one. At m >=
// kFloatFactorMinSize the factor is a float32 one (cholesky_float, ~2x cheaper than Eigen's
// double LLT in this build); it falls back to double when float32 cannot factor or precondition B.
// At that size, where B's trace says it is close to I (small C: I plus a few large eigenvalues,
// which CG resolves in a step or two each), the solves first try CG without any factor, so a few
// products with K replace an O(m^3) factorisation; when the residuals show it would take longer
// than a factorisation is worth, the solve goes on from there with a factor (and every later one
// of the system too). The answer is the same either way: CG to 1e-12 against the exact operator.
#include <Eigen/Dense>
#include <cstdint>
#include <vector>

namespace ishannot::detail {

/// Below this m the factor is Eigen's double LLT, whose fresh solves are exact (no CG).
constexpr Eigen::Index kFloatFactorMinSize = 512;

class NewtonSystem {
 public:
  /// gram: m x m, exactly symmetric (products read its columns as rows) and PSD; it must outlive
  /// the system. float_factor: allow the float32 factor at m >= kFloatFactorMinSize (false:
  /// always double, the reference path).
  NewtonSystem(const Eigen::MatrixXd& gram, double C, bool float_factor);

  /// When the first solve tries CG without a factor: where B's trace says B is near I (the
  /// default), never, or always. The last two are for tests, to reach every path at any C.
  enum class Unpreconditioned { by_trace, never, always };
  void set_unpreconditioned(Unpreconditioned when) { unpreconditioned_ = when; }

  /// Kc V for the two columns of V (m x 2), in one pass over K.
  Eigen::MatrixXd kernel_product(const Eigen::MatrixXd& v) const;

  /// The scaling S of this Newton step (s_i = sqrt(w_i)): B changes, the factor stays.
  void set_scaling(const Eigen::VectorXd& s) {
    s_ = s;
    fresh_ = false;
  }

  /// B^-1 T for the two columns of T (m x 2), each to relative residual 1e-12 (exact when solved
  /// by a fresh double factor).
  Eigen::MatrixXd solve(const Eigen::MatrixXd& t);

  int factorizations() const { return factorizations_; }
  bool has_float_factor() const { return kind_ == Kind::single; }    ///< else double (or none)
  bool unpreconditioned() const { return kind_ == Kind::identity; }  ///< CG without a factor
  int cg_iterations() const { return cg_iterations_; }  ///< summed over right-hand sides

 private:
  enum class Kind { none, identity, single, double_precision };
  void factor();
  double predicted_steps() const;
  bool near_identity(int limit) const;
  Eigen::MatrixXd apply_b(const Eigen::MatrixXd& x) const;
  Eigen::MatrixXd precondition(const Eigen::MatrixXd& r) const;
  bool conjugate_gradients(const Eigen::MatrixXd& t, Eigen::MatrixXd& z, int limit);
  Eigen::MatrixXd solve_from(const Eigen::MatrixXd& t, Eigen::MatrixXd z, int limit);

  const Eigen::MatrixXd& gram_;
  const double C_;
  const Eigen::Index m_;
  bool use_float_;
  Unpreconditioned unpreconditioned_ = Unpreconditioned::by_trace;  // never once it has failed
  Eigen::VectorXd s_, factor_s_;
  Kind kind_ = Kind::none;
  bool fresh_ = false;               // the factor is of this very B
  std::vector<float> float_factor_;  // row-major, lower triangle
  Eigen::LLT<Eigen::MatrixXd> llt_;
  int factorizations_ = 0, cg_iterations_ = 0;
};

}  // namespace ishannot::detail
