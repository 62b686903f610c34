// SparseCoder: the Gram matrix, the per-image GEMM and the CSC assembly; the solvers live in
// lasso_cd.cpp and omp.cpp.
#include <algorithm>
#include <cmath>

#include "ishannot/common/enum_names.h"
#include "ishannot/common/error.h"
#include "ishannot/sparse/sparse_coding.h"

namespace ishannot {

constexpr EnumName<CoderKind> kCoderKindNames[] = {{CoderKind::kLasso, "lasso"},
                                                   {CoderKind::kOmp, "omp"}};

CoderKind parse_coder_kind(const std::string& name) {
  return parse_enum(kCoderKindNames, name, "sparse coder");
}

std::string coder_kind_name(CoderKind kind) {
  return enum_name(kCoderKindNames, kind);
}

std::string SparseCodingParams::check() const {
  if (coder == CoderKind::kLasso && !(lambda > 0)) {
    return "sparse coding: lambda must be > 0 (got " + std::to_string(lambda) + ")";
  }
  if (coder == CoderKind::kOmp && sparsity < 1) {
    return "sparse coding: OMP sparsity must be >= 1 (got " + std::to_string(sparsity) + ")";
  }
  if (!(omp_residual >= 0)) return "sparse coding: OMP residual target must be >= 0";
  if (max_sweeps < 1) return "sparse coding: max sweeps must be >= 1";
  if (!(tolerance > 0)) return "sparse coding: tolerance must be > 0";
  return "";
}

Eigen::MatrixXf SparseCodes::dense() const {
  Eigen::MatrixXf out = Eigen::MatrixXf::Zero(atoms, count());
  for (int j = 0; j < count(); ++j) {
    for (int64_t p = start[j]; p < start[j + 1]; ++p) out(index[p], j) = value[p];
  }
  return out;
}

SparseCoder::SparseCoder(const Eigen::MatrixXf& dictionary, const SparseCodingParams& params)
    : dictionary_(dictionary), params_(params) {
  if (auto problem = params.check(); !problem.empty()) throw Error(problem);
  if (dictionary.size() == 0) throw Error("sparse coding: empty dictionary");
  if (!dictionary.allFinite()) throw Error("sparse coding: dictionary has NaN or Inf values");
  const Eigen::MatrixXd d = dictionary.cast<double>();
  gram_ = d.transpose() * d;
  gram_f_ = gram_.cast<float>();
}

SparseCodes SparseCoder::encode(const Eigen::MatrixXf& x) const {
  if (x.rows() != dictionary_.rows()) {
    throw Error("sparse coding: descriptors have " + std::to_string(x.rows()) +
                " dimensions, the dictionary " + std::to_string(dictionary_.rows()));
  }
  const int k = atoms();
  const Eigen::MatrixXf c = dictionary_.transpose() * x;  // K x n, one GEMM
  SparseCodes codes;
  codes.atoms = k;
  codes.start.reserve(x.cols() + 1);
  std::vector<double> cd(k), a(k, 0.0), coef;
  std::vector<float> r(k);
  std::vector<int> active;
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    for (int i = 0; i < k; ++i) cd[i] = c(i, j);
    if (params_.coder == CoderKind::kLasso) {
      lasso(cd.data(), a, r, active);
      std::sort(active.begin(), active.end());
      for (int i : active) {
        if (a[i] != 0) {
          codes.index.push_back(i);
          codes.value.push_back(static_cast<float>(a[i]));
        }
        a[i] = 0;
      }
    } else {
      omp(cd.data(), x.col(j).cast<double>().squaredNorm(), active, coef);
      std::vector<std::pair<int, double>> pairs;
      for (size_t t = 0; t < active.size(); ++t) pairs.emplace_back(active[t], coef[t]);
      std::sort(pairs.begin(), pairs.end());
      for (const auto& [i, v] : pairs) {
        if (v != 0) {
          codes.index.push_back(i);
          codes.value.push_back(static_cast<float>(v));
        }
      }
    }
    codes.start.push_back(static_cast<int64_t>(codes.index.size()));
  }
  return codes;
}

double lasso_objective(const Eigen::MatrixXf& dictionary, const Eigen::VectorXf& x,
                       const Eigen::VectorXf& a, double lambda) {
  const Eigen::VectorXd r = x.cast<double>() - dictionary.cast<double>() * a.cast<double>();
  return 0.5 * r.squaredNorm() + lambda * a.cast<double>().lpNorm<1>();
}

}  // namespace ishannot
