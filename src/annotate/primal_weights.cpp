// Primal weights of kernel-form members (detail/primal_weights.h): W = A Z, Z = the preprocessed
// training rows, streamed in column slabs (the store is read once; memory: rows x slab floats).
#include "annotate/primal_weights.h"

#include <algorithm>
#include <cmath>

#include "ishannot/common/error.h"

namespace ishannot::detail {

namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Standardisation of one slab, as compute_gram does it: mean and 1/std of the rows (double sums,
// float results; dimensions with variance <= 1e-12 get scale 0).
void slab_statistics(const RowMatrix& slab, Eigen::Ref<Eigen::VectorXf> mean,
                     Eigen::Ref<Eigen::VectorXf> scale) {
  const auto n = static_cast<double>(slab.rows());
  for (Eigen::Index c = 0; c < slab.cols(); ++c) {
    double sum = 0, sq = 0;
    for (Eigen::Index i = 0; i < slab.rows(); ++i) {
      const double v = slab(i, c);
      sum += v;
      sq += v * v;
    }
    const double mu = n > 0 ? sum / n : 0.0;
    const double var = n > 0 ? std::max(0.0, sq / n - mu * mu) : 0.0;
    mean[c] = static_cast<float>(mu);
    scale[c] = var > 1e-12 ? static_cast<float>(1.0 / std::sqrt(var)) : 0.0f;
  }
}

}  // namespace

PrimalWeights primal_weights(const FeatureStoreReader& store,
                             const std::vector<std::string>& layers,
                             const std::vector<int64_t>& rows, const Eigen::MatrixXd& coefficients,
                             Preprocessing preprocessing, const std::vector<double>& squared_norms,
                             const GramParams& params, const Reporter& reporter) {
  const auto n = static_cast<Eigen::Index>(rows.size());
  if (coefficients.cols() != n) throw Error("primal weights: coefficients do not match the rows");
  int64_t dim = 0;
  for (const auto& l : layers) dim += store.dim(l);
  PrimalWeights out;
  out.weights = Eigen::MatrixXd::Zero(coefficients.rows(), dim);
  const bool standardise = preprocessing == Preprocessing::kStandardise;
  if (standardise) {
    out.mean.resize(dim);
    out.scale.resize(dim);
  }
  // l2: scale each row once (Z = D^-1/2 X), i.e. divide its coefficients instead of its values.
  Eigen::MatrixXd a = coefficients;
  if (preprocessing == Preprocessing::kL2) {
    if (static_cast<Eigen::Index>(squared_norms.size()) != n)
      throw Error("primal weights: l2 needs the norm of every row");
    for (Eigen::Index j = 0; j < n; ++j) {
      const double s = squared_norms[static_cast<size_t>(j)];
      a.col(j) *= s > 0 ? 1.0 / std::sqrt(s) : 0.0;
    }
  }
  int64_t steps = 0, done = 0;
  for (const auto& l : layers)
    steps += (store.dim(l) + params.slab_columns - 1) / params.slab_columns;
  constexpr Eigen::Index kRowChunk = 512;  // rows converted to double at a time
  RowMatrix slab;
  Eigen::MatrixXd chunk;
  int64_t offset = 0;
  for (const auto& layer : layers) {
    const int64_t layer_dim = store.dim(layer);
    for (int64_t c0 = 0; c0 < layer_dim; c0 += params.slab_columns) {
      const int64_t width = std::min(params.slab_columns, layer_dim - c0);
      slab.resize(n, width);
      store.read_block(layer, rows, c0, width, slab.data());
      if (standardise) {
        auto mean = out.mean.segment(offset + c0, width);
        auto scale = out.scale.segment(offset + c0, width);
        slab_statistics(slab, mean, scale);
        slab = ((slab.rowwise() - mean.transpose()).array().rowwise() * scale.transpose().array())
                   .matrix();
      }
      auto target = out.weights.middleCols(offset + c0, width);
      for (Eigen::Index r0 = 0; r0 < n; r0 += kRowChunk) {
        const Eigen::Index m = std::min(kRowChunk, n - r0);
        chunk = slab.middleRows(r0, m).cast<double>();
        target.noalias() += a.middleCols(r0, m) * chunk;
      }
      reporter.report("weights " + layer, ++done, steps);
    }
    offset += layer_dim;
  }
  return out;
}

}  // namespace ishannot::detail
