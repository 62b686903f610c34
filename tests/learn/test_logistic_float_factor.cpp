// fit_kernel_logistic at sizes that take the float32-factor path (m >= kFloatFactorMinSize):
// the same optimum as the primal reference and as the double-factor path, and exact Newton
// solves even where float32 cannot factor B.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <string>

#include "ishannot/learn/logistic.h"
#include "learn/newton_system.h"

using namespace ishannot;

namespace {

struct Problem {
  Eigen::MatrixXd x, x_test;
  std::vector<uint8_t> y;
};

Problem random_problem(int m, int d, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  Problem p;
  p.x.resize(m, d);
  p.x_test.resize(20, d);
  p.y.resize(m);
  for (int i = 0; i < m; ++i) {
    p.y[i] = static_cast<uint8_t>(rng() % 2);
    for (int j = 0; j < d; ++j) p.x(i, j) = normal(rng) + (p.y[i] && j < 3 ? 0.5 : 0.0);
  }
  for (int i = 0; i < 20; ++i)
    for (int j = 0; j < d; ++j) p.x_test(i, j) = normal(rng);
  p.x /= std::sqrt(static_cast<double>(d));  // Gram entries ~1, as l2-normalised features
  p.x_test /= std::sqrt(static_cast<double>(d));
  return p;
}

Eigen::MatrixXd symmetric_gram(const Eigen::MatrixXd& x) {
  const Eigen::MatrixXd gram = x * x.transpose();
  return 0.5 * (gram + gram.transpose());
}

// The primal objective J(w, b) = ||w||^2 / 2 + C sum_i log(1 + exp(-s_i (x_i.w + b))) and the
// norm of its gradient relative to max(1, ||w||), in plain loops: an optimality certificate that
// needs no other solver.
struct Certificate {
  double objective = 0, gradient = 0;
};
Certificate certify(const Eigen::MatrixXd& x, const std::vector<uint8_t>& y,
                    const Eigen::VectorXd& w, double b, double C) {
  Certificate c;
  std::vector<double> grad(static_cast<size_t>(w.size()) + 1, 0.0);
  double ww = 0;
  for (Eigen::Index j = 0; j < w.size(); ++j) {
    grad[static_cast<size_t>(j)] = w[j];
    ww += w[j] * w[j];
  }
  c.objective = ww / 2;
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    double f = b;
    for (Eigen::Index j = 0; j < x.cols(); ++j) f += x(i, j) * w[j];
    const double s = y[static_cast<size_t>(i)] ? 1.0 : -1.0, margin = s * f;
    c.objective +=
        C * (margin > 0 ? std::log1p(std::exp(-margin)) : -margin + std::log1p(std::exp(margin)));
    const double r = C * (1.0 / (1.0 + std::exp(-f)) - (s > 0 ? 1.0 : 0.0));  // dJ/df_i
    for (Eigen::Index j = 0; j < x.cols(); ++j) grad[static_cast<size_t>(j)] += r * x(i, j);
    grad.back() += r;
  }
  double gg = 0;
  for (double g : grad) gg += g * g;
  c.gradient = std::sqrt(gg) / std::max(1.0, std::sqrt(ww));
  return c;
}

}  // namespace

class FloatFactorAgrees : public ::testing::TestWithParam<std::tuple<int, int, double>> {};

// Against the primal reference (d < m: a rank-deficient Gram) and the double-factor path.
TEST_P(FloatFactorAgrees, WithPrimalAndDoublePaths) {
  const auto [m, d, C] = GetParam();
  ASSERT_GE(m, detail::kFloatFactorMinSize);
  const Problem p = random_problem(m, d, static_cast<unsigned>(m + d));
  const Eigen::MatrixXd gram = symmetric_gram(p.x);
  LogisticParams params;
  params.C = C;
  params.tolerance = 1e-14;
  // The primal reference on one Eigen thread: its products then sum in one fixed order (in the
  // sanitizer build with 2 threads it failed its certificate in 2 of 5 runs of this suite on
  // full-rank shapes at stop 23, never on one thread).
  const int eigen_threads = Eigen::nbThreads();
  Eigen::setNbThreads(1);
  const auto primal = fit_primal_logistic(p.x, p.y, params);
  Eigen::setNbThreads(eigen_threads);
  const auto fast = fit_kernel_logistic(gram, p.y, params);
  params.float_factor = false;
  const auto reference = fit_kernel_logistic(gram, p.y, params);
  ASSERT_TRUE(primal.converged);
  ASSERT_TRUE(fast.converged);
  ASSERT_TRUE(reference.converged);
  // Solved by CG (float32 factors never solve exactly by themselves; without a factor neither);
  // at C = 100 B is too far from I for CG without a factor.
  EXPECT_GT(fast.cg_iterations, 0);
  if (C >= 100) {
    EXPECT_GE(fast.factorizations, 1);
  }
  const Eigen::VectorXd f_primal = (p.x_test * primal.weights).array() + primal.bias;
  const Eigen::VectorXd f_fast = (p.x_test * p.x.transpose() * fast.coef).array() + fast.bias;
  const Eigen::VectorXd f_reference =
      (p.x_test * p.x.transpose() * reference.coef).array() + reference.bias;
  for (int i = 0; i < f_primal.size(); ++i)
    EXPECT_NEAR(f_fast[i], f_reference[i], 1e-8 * (1 + std::abs(f_reference[i]))) << i;
  // The optimum, certified without any solver: the float-factor solution's gradient vanishes and
  // no other solution has a lower objective.
  const Eigen::VectorXd w_fast = p.x.transpose() * fast.coef;
  const Certificate ours = certify(p.x, p.y, w_fast, fast.bias, C),
                    theirs = certify(p.x, p.y, primal.weights, primal.bias, C);
  EXPECT_LT(ours.gradient, 1e-6);
  EXPECT_LE(ours.objective, theirs.objective * (1 + 1e-12));
  // The primal Newton reference where it certifies its own optimum. At (600, 700, C = 100) it
  // does not always: its 701 x 701 Hessian is so ill-conditioned that, in the sanitizer build
  // with 2 threads, rounding that differs from run to run (not explained; summation orders that
  // depend on thread timing or on the data's alignment are the suspects) sometimes leaves it far
  // from the optimum while its Newton decrement says converged (docs/RELIABILITY.md, "The
  // sanitizer build").
  if (theirs.gradient < 1e-6) {
    for (int i = 0; i < f_primal.size(); ++i)
      EXPECT_NEAR(f_fast[i], f_primal[i], 1e-6 * (1 + std::abs(f_primal[i]))) << i;
    EXPECT_NEAR(fast.bias, primal.bias, 1e-6 * (1 + std::abs(primal.bias)));
  } else {
    EXPECT_TRUE(m < d) << "the primal reference failed its certificate on a full-rank problem "
                       << "(relative gradient " << theirs.gradient << ")";
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, FloatFactorAgrees,
                         ::testing::Values(std::make_tuple(600, 40, 1.0),
                                           std::make_tuple(600, 40, 100.0),
                                           std::make_tuple(600, 700, 1.0),
                                           std::make_tuple(600, 700, 100.0),
                                           std::make_tuple(777, 60, 10.0)));

// Solves with B = I + S (C K) S to 1e-12: without a factor, fresh and with a factor of an earlier
// B, and from an unfinished solve without a factor on with one (`always` at C = 100 and 1e9). The
// Gram has rank 40: at C = 1e9 B has 560 eigenvalues 1 and 40 of ~1e9, beyond float32.
TEST(NewtonSystem, SolvesToTheRequiredResidual) {
  using Mode = detail::NewtonSystem::Unpreconditioned;
  const Problem p = random_problem(600, 40, 11);
  const Eigen::MatrixXd gram = symmetric_gram(p.x);
  std::map<double, int> cg_never;  // CG steps without any attempt, per C
  for (Mode mode : {Mode::by_trace, Mode::never, Mode::always}) {
    for (double C : {1.0, 100.0, 1e9}) {
      SCOPED_TRACE("mode " + std::to_string(static_cast<int>(mode)) + ", C " + std::to_string(C));
      detail::NewtonSystem system(gram, C, true);
      system.set_unpreconditioned(mode);
      std::mt19937 rng(3);
      std::uniform_real_distribution<double> uniform(0.0, 0.5);
      Eigen::MatrixXd t = Eigen::MatrixXd::Random(600, 2);
      for (int step = 0; step < 3; ++step) {
        Eigen::VectorXd s(600);
        for (auto& v : s) v = uniform(rng);
        system.set_scaling(s);
        const Eigen::MatrixXd z = system.solve(t);
        Eigen::MatrixXd b = C * (s.asDiagonal() * gram * s.asDiagonal());
        b.diagonal().array() += 1.0;
        // The target, or what double rounding allows (a backward-stable solve) at C = 1e9.
        const double norm_b = b.norm();
        for (int c = 0; c < 2; ++c)
          EXPECT_LT((b * z.col(c) - t.col(c)).norm(),
                    2e-12 * t.col(c).norm() + 1e-14 * norm_b * z.col(c).norm())
              << step;
      }
      // At C = 1, B = I + a rank-40 part of norm ~4 (trace ~50): CG needs no factor; at C = 100
      // the trace (~5,000) says it would, and an attempt (always) gives up and hands over.
      const bool without = mode != Mode::never && C < 10;
      EXPECT_EQ(system.unpreconditioned(), without);
      EXPECT_EQ(system.factorizations() > 0, !without);
      if (system.factorizations() > 0) {
        EXPECT_EQ(system.has_float_factor(), C < 1e6);
      }
      if (mode == Mode::never) cg_never[C] = system.cg_iterations();
      if (mode == Mode::always && C >= 10) {
        EXPECT_GT(system.cg_iterations(), cg_never[C]);  // the attempt ran before the factor
      }
    }
  }
}
