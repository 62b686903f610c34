#include "ishannot/learn/logistic.h"
#include "ishannot/common/assert.h"

#include <cmath>

#include "learn/newton_system.h"

namespace ishannot {

std::string LogisticParams::check() const {
  if (!(C > 0) || !std::isfinite(C)) return "C must be a positive number";
  if (!(tolerance > 0)) return "tolerance must be positive";
  if (max_iterations < 1) return "max_iterations must be >= 1";
  return "";
}

double sigmoid(double z) {
  if (z >= 0) return 1.0 / (1.0 + std::exp(-z));
  const double e = std::exp(z);
  return e / (1.0 + e);
}

namespace {

// log(1 + exp(z)) without overflow.
double softplus(double z) {
  return z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z));
}

// sum_i loss(eta_i; t_i) with loss = log(1 + e^eta) - t * eta.
double data_loss(const Eigen::VectorXd& eta, const std::vector<uint8_t>& t) {
  double sum = 0;
  for (Eigen::Index i = 0; i < eta.size(); ++i) sum += softplus(eta[i]) - (t[i] ? eta[i] : 0.0);
  return sum;
}

}  // namespace

// Scaled problem: psi(alpha, b) = 0.5 alpha' Kc alpha + sum loss(Kc alpha + b), Kc = C K, and
// a = C alpha gives the original objective C * psi. Newton in (f = Kc alpha, b).
KernelLogisticModel fit_kernel_logistic(const Eigen::MatrixXd& gram,
                                        const std::vector<uint8_t>& labels,
                                        const LogisticParams& params,
                                        const KernelLogisticModel* warm_start) {
  const Eigen::Index m = gram.rows();
  ISHANNOT_ASSERT(gram.cols() == m && static_cast<Eigen::Index>(labels.size()) == m,
                  "Gram and labels of one size");
  const double C = params.C;
  KernelLogisticModel model;
  Eigen::VectorXd alpha = Eigen::VectorXd::Zero(m);
  double b = 0;
  if (warm_start && warm_start->coef.size() == m) {
    alpha = warm_start->coef / C;
    b = warm_start->bias;
  } else {
    double pos = 0;
    for (auto t : labels) pos += t;
    if (pos > 0 && pos < static_cast<double>(m)) b = std::log(pos / (static_cast<double>(m) - pos));
  }
  Eigen::VectorXd f = C * (gram * alpha);
  auto objective = [&](const Eigen::VectorXd& a, const Eigen::VectorXd& fv, double bias) {
    return 0.5 * a.dot(fv) + data_loss((fv.array() + bias).matrix(), labels);
  };
  double psi = objective(alpha, f, b);
  detail::NewtonSystem system(gram, C, params.float_factor);
  Eigen::VectorXd p(m), g(m), w(m), s(m);
  Eigen::MatrixXd v(m, 2);
  for (int it = 0; it < params.max_iterations; ++it) {
    for (Eigen::Index i = 0; i < m; ++i) {
      p[i] = sigmoid(f[i] + b);
      g[i] = p[i] - (labels[i] ? 1.0 : 0.0);
      w[i] = p[i] * (1 - p[i]);
      s[i] = std::sqrt(w[i]);
    }
    const Eigen::VectorXd r = -(alpha + g);  // -gradient in f
    const double r_b = -g.sum();             // -gradient in b
    // (I + W Kc)^-1 v = v - S B^-1 S Kc v, B = I + S Kc S, for v = r and v = w together.
    system.set_scaling(s);
    v.col(0) = r;
    v.col(1) = w;
    const Eigen::MatrixXd u =
        v - s.asDiagonal() * system.solve(s.asDiagonal() * system.kernel_product(v));
    const Eigen::MatrixXd a = system.kernel_product(u);  // (Kc^-1 + W)^-1 r, ...W1
    const auto u1 = u.col(0), u2 = u.col(1), a1 = a.col(0), a2 = a.col(1);
    const double denominator = w.sum() - w.dot(a2);
    const double db = denominator > 1e-300 ? (r_b - w.dot(a1)) / denominator : 0.0;
    const Eigen::VectorXd d_alpha = u1 - u2 * db;
    const Eigen::VectorXd d_f = a1 - a2 * db;
    const double decrement = r.dot(d_f) + r_b * db;  // >= 0
    model.iterations = it + 1;
    if (decrement / 2 < params.tolerance * (1 + std::abs(psi))) {
      // Close enough for the quadratic phase: take the full step (it only sharpens) and stop.
      alpha += d_alpha;
      f += d_f;
      b += db;
      model.converged = true;
      break;
    }
    double step = 1;
    for (int k = 0; k < 60; ++k, step /= 2) {
      const Eigen::VectorXd a_new = alpha + step * d_alpha;
      const Eigen::VectorXd f_new = f + step * d_f;
      const double psi_new = objective(a_new, f_new, b + step * db);
      if (psi_new <= psi - 1e-4 * step * decrement || k == 59) {
        alpha = a_new;
        f = f_new;
        b += step * db;
        psi = psi_new;
        break;
      }
    }
  }
  model.coef = C * alpha;
  model.bias = b;
  model.factorizations = system.factorizations();
  model.cg_iterations = system.cg_iterations();
  return model;
}

PrimalLogisticModel fit_primal_logistic(const Eigen::MatrixXd& x,
                                        const std::vector<uint8_t>& labels,
                                        const LogisticParams& params) {
  const Eigen::Index m = x.rows(), d = x.cols();
  const double C = params.C;
  Eigen::VectorXd theta = Eigen::VectorXd::Zero(d + 1);  // (w, b)
  auto decision = [&](const Eigen::VectorXd& th) -> Eigen::VectorXd {
    return (x * th.head(d)).array() + th[d];
  };
  auto objective = [&](const Eigen::VectorXd& th) {
    return 0.5 * th.head(d).squaredNorm() + C * data_loss(decision(th), labels);
  };
  PrimalLogisticModel model;
  double value = objective(theta);
  for (int it = 0; it < params.max_iterations; ++it) {
    const Eigen::VectorXd eta = decision(theta);
    Eigen::VectorXd g(m), w(m);
    for (Eigen::Index i = 0; i < m; ++i) {
      const double p = sigmoid(eta[i]);
      g[i] = p - (labels[i] ? 1.0 : 0.0);
      w[i] = p * (1 - p);
    }
    Eigen::VectorXd grad(d + 1);
    grad.head(d) = theta.head(d) + C * x.transpose() * g;
    grad[d] = C * g.sum();
    Eigen::MatrixXd H(d + 1, d + 1);
    H.topLeftCorner(d, d) = C * x.transpose() * w.asDiagonal() * x;
    H.topLeftCorner(d, d).diagonal().array() += 1.0;
    H.block(0, d, d, 1) = C * x.transpose() * w;
    H.block(d, 0, 1, d) = H.block(0, d, d, 1).transpose();
    H(d, d) = C * w.sum();
    const Eigen::VectorXd step_dir = -H.ldlt().solve(grad);
    const double decrement = -grad.dot(step_dir);
    model.iterations = it + 1;
    if (decrement / 2 < params.tolerance * C * (1 + std::abs(value / C))) {
      theta += step_dir;
      model.converged = true;
      break;
    }
    double step = 1;
    for (int k = 0; k < 60; ++k, step /= 2) {
      const Eigen::VectorXd candidate = theta + step * step_dir;
      const double v = objective(candidate);
      if (v <= value - 1e-4 * step * decrement || k == 59) {
        theta = candidate;
        value = v;
        break;
      }
    }
  }
  model.weights = theta.head(d);
  model.bias = theta[d];
  return model;
}

}  // namespace ishannot
