#pragma once
// Internal to train (src/annotate/): from kernel-form members (coefficients a over training rows)
// to primal weights w = sum_j a_j pre(x_j), in one streamed pass over the store.
#include <Eigen/Dense>
#include <cstdint>
#include <string>
#include <vector>

#include "ishannot/common/progress.h"
#include "ishannot/features/feature_store.h"
#include "ishannot/learn/gram.h"

namespace ishannot::detail {

struct PrimalWeights {
  Eigen::MatrixXd weights;      ///< members x D (layers concatenated in order)
  Eigen::VectorXf mean, scale;  ///< standardise: statistics of the training rows, else empty
};

/// coefficients: members x rows.size(), the kernel coefficients of every member over the store
/// rows `rows` (zero where a member did not use a row). Preprocessing as in training: l2 divides
/// row j by sqrt(squared_norms[j]) (the raw Gram diagonal over all layers; 0 stays 0);
/// standardise fits mean/scale on `rows` (float, as compute_gram does) and applies them.
/// Reads the store in column slabs of params.slab_columns.
PrimalWeights primal_weights(const FeatureStoreReader& store,
                             const std::vector<std::string>& layers,
                             const std::vector<int64_t>& rows, const Eigen::MatrixXd& coefficients,
                             Preprocessing preprocessing, const std::vector<double>& squared_norms,
                             const GramParams& params, const Reporter& reporter = {});

}  // namespace ishannot::detail
