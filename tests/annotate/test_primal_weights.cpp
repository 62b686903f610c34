// The bundle stores primal weights w = X^T a (streamed from the store, preprocessing applied as in
// training). Reference: the kernel-form decision sum_j a_j k(x_j, x) + b of the same members,
// with the kernel computed here in double from the raw stored rows and this file's own
// preprocessing, on rows the members never saw.
#include <gtest/gtest.h>

#include <cmath>

#include "annotate/primal_weights.h"
#include "ishannot/data/terms.h"
#include "ishannot/eval/term_fit.h"
#include "support/annotate_support.h"
#include "support/test_paths.h"

using namespace ishannot;

namespace {

// Raw rows of the store (double), in the given order.
Eigen::MatrixXd raw_rows(const FeatureStoreReader& store, const std::vector<int64_t>& rows) {
  std::vector<float> buffer(rows.size() * static_cast<size_t>(store.dim("map")));
  store.read_rows("map", rows, buffer.data());
  Eigen::MatrixXd x(static_cast<Eigen::Index>(rows.size()), store.dim("map"));
  for (Eigen::Index i = 0; i < x.rows(); ++i)
    for (Eigen::Index j = 0; j < x.cols(); ++j)
      x(i, j) = buffer[static_cast<size_t>(i * x.cols() + j)];
  return x;
}

// This test's preprocessing: statistics from the training rows only.
Eigen::MatrixXd preprocess(const Eigen::MatrixXd& x, const Eigen::MatrixXd& train,
                           Preprocessing p) {
  Eigen::MatrixXd z = x;
  if (p == Preprocessing::kL2) {
    for (Eigen::Index i = 0; i < z.rows(); ++i) z.row(i) /= z.row(i).norm();
  } else if (p == Preprocessing::kStandardise) {
    const Eigen::RowVectorXd mean = train.colwise().mean();
    for (Eigen::Index j = 0; j < z.cols(); ++j) {
      const double var = (train.col(j).array() - mean[j]).square().mean();
      z.col(j) = (z.col(j).array() - mean[j]) / std::sqrt(var);
    }
  }
  return z;
}

}  // namespace

TEST(PrimalWeights, GiveTheKernelDecisionOnHeldOutRows) {
  const auto dir = test::temp_dir("primal");
  const Dataset ds = test::annotate_dataset();
  test::write_map_store(dir + "/f.h5", ds, 3);
  const FeatureStoreReader store(dir + "/f.h5");
  const StageProblem problem = select_terms(ds, "13-16", {});
  std::vector<int64_t> train_rows, test_rows;  // store rows (= dataset order here)
  for (int r = 0; r < problem.rows(); ++r)
    (r < 66 ? train_rows : test_rows).push_back(problem.image_indices[static_cast<size_t>(r)]);
  const Eigen::MatrixXd x_train = raw_rows(store, train_rows), x_test = raw_rows(store, test_rows);
  std::vector<std::string> genes;
  for (auto r : train_rows) genes.push_back(ds.images[static_cast<size_t>(r)].gene);

  for (Preprocessing p : {Preprocessing::kNone, Preprocessing::kL2, Preprocessing::kStandardise}) {
    SCOPED_TRACE(preprocessing_name(p));
    const Eigen::MatrixXd z_train = preprocess(x_train, x_train, p);
    const Eigen::MatrixXd z_test = preprocess(x_test, x_train, p);
    const Eigen::MatrixXd gram = z_train * z_train.transpose();
    std::vector<uint8_t> y;
    for (size_t i = 0; i < train_rows.size(); ++i)
      y.push_back(problem.label(static_cast<int>(i), 0));
    std::vector<int> all(train_rows.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int>(i);
    TermFitParams fp;
    fp.c_grid = {3.0};
    fp.ensemble.models = 5;
    const TermFit fit = fit_term(gram, genes, y, all, 11, fp);
    Eigen::MatrixXd a = Eigen::MatrixXd::Zero(5, static_cast<Eigen::Index>(all.size()));
    for (int k = 0; k < 5; ++k) {
      const auto& m = fit.ensemble.members[static_cast<size_t>(k)];
      for (size_t j = 0; j < m.rows.size(); ++j)
        a(k, m.rows[j]) = m.model.coef[static_cast<Eigen::Index>(j)];
    }
    std::vector<double> norms;
    for (Eigen::Index i = 0; i < x_train.rows(); ++i) norms.push_back(x_train.row(i).squaredNorm());
    GramParams gp;
    gp.slab_columns = 7;  // several slabs, one ragged
    const auto primal = detail::primal_weights(store, {"map"}, train_rows, a, p, norms, gp);
    ASSERT_EQ(primal.weights.rows(), 5);
    ASSERT_EQ(primal.weights.cols(), store.dim("map"));
    double worst = 0, scale = 0;
    for (int k = 0; k < 5; ++k) {
      const auto& m = fit.ensemble.members[static_cast<size_t>(k)];
      for (Eigen::Index t = 0; t < z_test.rows(); ++t) {
        double kernel = m.model.bias;
        for (size_t j = 0; j < m.rows.size(); ++j)
          kernel += m.model.coef[static_cast<Eigen::Index>(j)] *
                    z_train.row(m.rows[j]).dot(z_test.row(t));
        const double linear = primal.weights.row(k).dot(z_test.row(t)) + m.model.bias;
        worst = std::max(worst, std::fabs(linear - kernel));
        scale = std::max(scale, std::fabs(kernel));
      }
    }
    EXPECT_GT(scale, 0.5);  // the decisions are not trivially zero
    EXPECT_LT(worst, 1e-5 * std::max(1.0, scale)) << "max |primal - kernel| " << worst;
  }
}
