#include "learn/newton_system.h"
#include "ishannot/common/assert.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "learn/cholesky.h"
#include "learn/pair_product.h"

namespace ishannot::detail {

NewtonSystem::NewtonSystem(const Eigen::MatrixXd& gram, double C, bool float_factor)
    : gram_(gram), C_(C), m_(gram.rows()), use_float_(float_factor && m_ >= kFloatFactorMinSize) {
  ISHANNOT_ASSERT(gram.cols() == m_, "Gram of the system size");
}

Eigen::MatrixXd NewtonSystem::kernel_product(const Eigen::MatrixXd& v) const {
  ISHANNOT_ASSERT(v.rows() == m_ && v.cols() == 2, "two right-hand sides");
  Eigen::MatrixXd y(m_, 2);
  symmetric_product_pair(gram_.data(), m_, v.col(0).data(), v.col(1).data(), y.col(0).data(),
                         y.col(1).data());
  return C_ * y;
}

// B X = X + S Kc S X, the exact operator.
Eigen::MatrixXd NewtonSystem::apply_b(const Eigen::MatrixXd& x) const {
  return x + s_.asDiagonal() * kernel_product(s_.asDiagonal() * x);
}

Eigen::MatrixXd NewtonSystem::precondition(const Eigen::MatrixXd& r) const {
  if (kind_ == Kind::identity) return r;
  if (kind_ == Kind::double_precision) return llt_.solve(r);
  Eigen::MatrixXf x = r.cast<float>();
  cholesky_float_solve_pair(float_factor_.data(), m_, m_, x.col(0).data(), x.col(1).data());
  return x.cast<double>();
}

void NewtonSystem::factor() {
  ++factorizations_;
  factor_s_ = s_;
  fresh_ = true;
  if (use_float_) {
    // B in float, lower triangle of a row-major array: row i of B's lower part is read from
    // column i of the (symmetric) Gram, which is contiguous.
    float_factor_.resize(static_cast<size_t>(m_ * m_));
    for (Eigen::Index i = 0; i < m_; ++i) {
      const double* column = gram_.data() + i * m_;
      float* row = float_factor_.data() + i * m_;
      const double scale = C_ * s_[i];
      for (Eigen::Index j = 0; j <= i; ++j) row[j] = static_cast<float>(scale * column[j] * s_[j]);
      row[i] += 1.0f;
    }
    if (cholesky_float(float_factor_.data(), m_, m_)) {
      kind_ = Kind::single;
      return;
    }
    use_float_ = false;  // not positive definite in float32: double from now on
  }
  std::vector<float>().swap(float_factor_);
  llt_.compute(Eigen::MatrixXd::Identity(m_, m_) +
               C_ * (s_.asDiagonal() * gram_ * s_.asDiagonal()));
  kind_ = Kind::double_precision;
}

// Preconditioned CG on both columns from z, at most `limit` steps (fewer when the residuals'
// rate of decrease shows that `limit` will not do). True when both converged.
bool NewtonSystem::conjugate_gradients(const Eigen::MatrixXd& t, Eigen::MatrixXd& z, int limit) {
  Eigen::MatrixXd res = t - apply_b(z);
  double target[2], start[2], rho[2];
  bool active[2];
  // Without a factor CG's first steps remove B's few large eigenvalues and are fast, the rest
  // slower: the projection uses the rate of the last four steps there (the mean rate otherwise).
  const bool recent_rate = kind_ == Kind::identity;
  double history[2][4];
  for (int c = 0; c < 2; ++c) {
    target[c] = 1e-12 * t.col(c).norm();
    start[c] = res.col(c).norm();
    active[c] = start[c] > target[c];
    for (double& h : history[c]) h = start[c];
  }
  Eigen::MatrixXd y = precondition(res), direction = y;
  for (int c = 0; c < 2; ++c) rho[c] = res.col(c).dot(y.col(c));
  for (int k = 1; k <= limit && (active[0] || active[1]); ++k) {
    const Eigen::MatrixXd q = apply_b(direction);
    cg_iterations_ += int{active[0]} + int{active[1]};
    for (int c = 0; c < 2; ++c) {
      if (!active[c]) continue;
      const double step = rho[c] / direction.col(c).dot(q.col(c));
      z.col(c) += step * direction.col(c);
      res.col(c) -= step * q.col(c);
      const double norm = res.col(c).norm();
      if (norm <= target[c]) {
        active[c] = false;
        continue;
      }
      // Projected steps to the target at the rate so far; give up early if over the limit.
      const double before = recent_rate ? history[c][k % 4] : start[c];
      history[c][k % 4] = norm;
      if (k >= 4 && before > 0) {
        const double rate = std::log(norm / before) / (recent_rate ? 4 : k);
        if (rate >= 0 || k + std::log(target[c] / norm) / rate > 1.5 * limit) return false;
      }
    }
    if (!active[0] && !active[1]) break;
    const Eigen::MatrixXd y_next = precondition(res);
    for (int c = 0; c < 2; ++c) {
      if (!active[c]) continue;
      // Polak-Ribiere form: robust to the float32 preconditioner's rounding.
      const double rho_next = res.col(c).dot(y_next.col(c));
      const double beta = (rho_next - res.col(c).dot(y.col(c))) / rho[c];
      direction.col(c) = y_next.col(c) + std::max(0.0, beta) * direction.col(c);
      rho[c] = rho_next;
    }
    y = y_next;
  }
  return !active[0] && !active[1];
}

// CG with a factor of an earlier B' gains about -log(delta) per step, delta the relative
// distance of B' to B; delta is estimated by the largest relative move of a diagonal entry
// since the factor: 1 + c w_i (c = C K_ii). Seen on realistic Grams: within a step of the count.
double NewtonSystem::predicted_steps() const {
  double change = 0;
  for (Eigen::Index i = 0; i < m_; ++i) {
    const double c = C_ * gram_(i, i), w_then = factor_s_[i] * factor_s_[i], w_now = s_[i] * s_[i];
    change = std::max(change, c * std::abs(w_now - w_then) / (1 + c * w_then));
  }
  if (change >= 1) return std::numeric_limits<double>::infinity();
  return std::log(1e-12) / std::log(std::max(change, 1e-12));
}

// CG without a factor needs about a step per eigenvalue of S Kc S well above 1 (they are few
// where C is small) and a few more for the rest; their sum, the trace, bounds how many there can
// be. Seen on bench_logistic's Grams (m = 2,500 and 4,700, C = 0.001 ... 100): CG without a
// factor converged within the limit where the trace was up to ~3x `limit` (C = 0.1) and gave up
// at ~30x (C = 1, an attempt that cost as much as 8 more preconditioned steps): tried up to 8x.
bool NewtonSystem::near_identity(int limit) const {
  double trace = 0;
  for (Eigen::Index i = 0; i < m_; ++i) trace += C_ * gram_(i, i) * s_[i] * s_[i];
  return trace <= 8.0 * limit;
}

Eigen::MatrixXd NewtonSystem::solve(const Eigen::MatrixXd& t) {
  ISHANNOT_ASSERT(t.rows() == m_ && t.cols() == 2, "two right-hand sides");
  // A factorisation costs about as much as this many CG steps (O(m^3) vs O(m^2) memory-bound).
  const int limit = std::max<int>(16, static_cast<int>(m_ / 128));
  if (kind_ == Kind::none && use_float_ && unpreconditioned_ != Unpreconditioned::never &&
      (unpreconditioned_ == Unpreconditioned::always || near_identity(limit)))
    kind_ = Kind::identity;
  if (kind_ == Kind::identity) {
    // A step without a factor costs one product, a factorisation about `limit` preconditioned
    // steps of a product and two triangular solves each.
    Eigen::MatrixXd z = t;
    if (conjugate_gradients(t, z, limit)) return z;
    unpreconditioned_ = Unpreconditioned::never;  // B is too far from I: a factor from now on
    factor();
    if (kind_ == Kind::double_precision) return precondition(t);  // fresh double: exact
    return solve_from(t, z, limit);
  }
  // Refactor when the old factor would cost over half a factorisation in steps: the new one
  // also serves the next Newton steps.
  if (kind_ == Kind::none || predicted_steps() > limit / 2) factor();
  return solve_from(t, precondition(t), limit);
}

Eigen::MatrixXd NewtonSystem::solve_from(const Eigen::MatrixXd& t, Eigen::MatrixXd z, int limit) {
  if (fresh_ && kind_ == Kind::double_precision) return z;  // exact
  for (;;) {
    if (conjugate_gradients(t, z, limit)) return z;
    if (fresh_) use_float_ = false;  // float32 cannot precondition this B well: double from now
    factor();                        // then go on from z with the fresh factor
    if (kind_ == Kind::double_precision) return precondition(t);  // fresh double: exact
  }
}

}  // namespace ishannot::detail
