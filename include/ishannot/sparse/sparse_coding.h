#pragma once
// Sparse coding of descriptors x (d) on a dictionary D (d x K, unit-norm columns):
//   lasso:  a = argmin 0.5 ||x - D a||^2 + lambda ||a||_1  (activation by Gram coordinate
//           descent, exact feature-sign solves on the active set; see lasso_cd.cpp)
//   OMP:    greedy, at most `sparsity` atoms, least-squares on the chosen support
//           (batch OMP of Rubinstein et al. 2008 with an incremental Cholesky factor)
// Both work from G = D^T D, computed once per dictionary, and c = D^T X, one GEMM per image, so
// coding a descriptor never touches the d-dimensional vectors again: with K = 1024 the per-
// descriptor cost is O(K * active atoms * sweeps) instead of O(d K) per iteration.
#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <vector>

namespace ishannot {

enum class CoderKind { kLasso, kOmp };

/// Parses "lasso" / "omp"; throws Error otherwise.
CoderKind parse_coder_kind(const std::string& name);
std::string coder_kind_name(CoderKind kind);

struct SparseCodingParams {
  CoderKind coder = CoderKind::kLasso;
  double lambda = 0.15;       ///< lasso penalty (x and atoms have unit norm; Mairal et al.'s
                              ///< usual value for SIFT; Yang et al. ScSPM use 0.15 too)
  int sparsity = 10;          ///< OMP: at most this many atoms per descriptor
  double omp_residual = 0.0;  ///< OMP: also stop when ||x - D a||^2 <= this
  int max_sweeps = 500;       ///< lasso: sweeps + active-set solves per descriptor at most
  double tolerance = 1e-5;    ///< lasso, coordinate-descent fallback (singular active set):
                              ///< stop when no coefficient moves by more than this
  std::string check() const;
};

/// Codes of n descriptors on K atoms, compressed by column (CSC): the codes of descriptor j are
/// index/value[start[j] .. start[j+1]).
struct SparseCodes {
  int atoms = 0;
  std::vector<int64_t> start{0};
  std::vector<int> index;
  std::vector<float> value;
  int count() const { return static_cast<int>(start.size()) - 1; }
  /// Dense K x n copy (for tests and small problems).
  Eigen::MatrixXf dense() const;
};

/// Codes descriptors on one dictionary. Thread-safe after construction (encode is const).
class SparseCoder {
 public:
  /// dictionary: d x K. Throws Error on an empty dictionary or a parameter problem.
  SparseCoder(const Eigen::MatrixXf& dictionary, const SparseCodingParams& params);

  /// Codes the columns of x (d x n).
  SparseCodes encode(const Eigen::MatrixXf& x) const;

  int atoms() const { return static_cast<int>(gram_.rows()); }
  const Eigen::MatrixXd& gram() const { return gram_; }

 private:
  void lasso(const double* c, std::vector<double>& a, std::vector<float>& r,
             std::vector<int>& active) const;
  void omp(const double* c, double x_norm2, std::vector<int>& support,
           std::vector<double>& coef) const;

  Eigen::MatrixXf dictionary_;
  Eigen::MatrixXd gram_;    ///< G in double: the small active-set solves
  Eigen::MatrixXf gram_f_;  ///< G in float: the O(K) residual updates (twice the SIMD width)
  SparseCodingParams params_;
};

/// Lasso objective 0.5 ||x - D a||^2 + lambda ||a||_1 (for tests and diagnostics).
double lasso_objective(const Eigen::MatrixXf& dictionary, const Eigen::VectorXf& x,
                       const Eigen::VectorXf& a, double lambda);

}  // namespace ishannot
