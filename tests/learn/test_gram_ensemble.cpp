#include <gtest/gtest.h>

#include <hdf5.h>
#include <cstdlib>

#include <random>
#include <set>

#include "ishannot/common/error.h"
#include "ishannot/features/feature_store.h"
#include "ishannot/learn/ensemble.h"
#include "ishannot/learn/gram.h"
#include "learn/tile_product.h"
#include "support/test_paths.h"
#include "support/test_util.h"

using namespace ishannot;

namespace {

Eigen::MatrixXd random_features(int n, int d, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  Eigen::MatrixXd x(n, d);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < d; ++j) x(i, j) = normal(rng) * (1 + j % 3) + (j % 5 == 0 ? 2.0 : 0.0);
  if (d > 7)
    for (int i = 0; i < n; ++i) x(i, 7) = 1.5;  // a constant column: zero variance
  return x;
}

std::string write_store(const std::string& dir, const Eigen::MatrixXd& x) {
  const std::string path = dir + "/x.h5";
  FeatureStoreWriter w(path, {{"L", x.cols(), ""}}, FeatureDtype::kFloat32, {});
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> xf = x.cast<float>();
  std::vector<std::string> ids;
  for (int i = 0; i < x.rows(); ++i) ids.push_back("r" + std::to_string(i));
  w.append(ids, {{"L", xf.data()}});
  w.close();
  return path;
}

}  // namespace

TEST(Gram, BlockwiseMatchesNaiveProduct) {
  const auto dir = test::temp_dir("gram");
  const Eigen::MatrixXd x = random_features(23, 37, 1).cast<float>().cast<double>();
  FeatureStoreReader store(write_store(dir, x));
  const std::vector<int64_t> rows = {22, 0, 5, 6, 7, 3, 19, 11, 12, 13, 1};
  Eigen::MatrixXd xs(rows.size(), x.cols());
  for (size_t i = 0; i < rows.size(); ++i) xs.row(i) = x.row(rows[i]);
  GramParams params;
  params.slab_columns = 5;  // uneven slabs and tiles exercise every edge
  params.tile_rows = 4;
  // Both kernels: oneDNN's sgemm by row blocks (where the build has it) and the tile pairs.
  for (const char* kernel : {"default", "tiles"}) {
    if (std::string(kernel) == "tiles")
      setenv("ISHANNOT_GEMM_KERNEL", "tiles", 1);
    else
      unsetenv("ISHANNOT_GEMM_KERNEL");
    auto r = compute_gram(store, "L", rows, Preprocessing::kNone, {}, 0, params);
    ASSERT_EQ(r.grams.size(), 1u);
    const Eigen::MatrixXd ref = xs * xs.transpose();
    EXPECT_LT((r.grams[0] - ref).cwiseAbs().maxCoeff(), 1e-4 * ref.cwiseAbs().maxCoeff()) << kernel;
    // l2 in kernel form equals the Gram of unit-norm rows.
    l2_normalise_gram(r.grams[0]);
    const Eigen::MatrixXd unit = xs.rowwise().normalized();
    EXPECT_LT((r.grams[0] - unit * unit.transpose()).cwiseAbs().maxCoeff(), 1e-5) << kernel;
  }
  unsetenv("ISHANNOT_GEMM_KERNEL");
}

// learn reads through RowSource: an in-memory matrix, no HDF5 store, gives the naive Gram.
TEST(Gram, ReadsAnyRowSource) {
  struct MatrixRows : RowSource {
    Eigen::MatrixXd x;
    int64_t dim(const std::string& layer) const override {
      if (layer != "L") throw Error("no layer " + layer);
      return x.cols();
    }
    void read_block(const std::string&, const std::vector<int64_t>& rows, int64_t c0, int64_t count,
                    float* out) const override {
      for (size_t i = 0; i < rows.size(); ++i)
        for (int64_t c = 0; c < count; ++c)
          out[static_cast<int64_t>(i) * count + c] = static_cast<float>(x(rows[i], c0 + c));
    }
  } source;
  source.x = random_features(9, 13, 4).cast<float>().cast<double>();
  GramParams params;
  params.slab_columns = 4;
  params.tile_rows = 2;
  const std::vector<int64_t> rows = {8, 1, 2, 5};
  const auto r = compute_gram(source, "L", rows, Preprocessing::kNone, {}, 0, params);
  for (size_t i = 0; i < rows.size(); ++i)
    for (size_t j = 0; j < rows.size(); ++j)
      EXPECT_NEAR(r.grams[0](static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)),
                  source.x.row(rows[i]).dot(source.x.row(rows[j])), 1e-4);
  EXPECT_THROW(compute_gram(source, "M", rows, Preprocessing::kNone, {}, 0, params), Error);
}

TEST(Gram, StandardisedPerFoldUsesTrainingRowsOnly) {
  const auto dir = test::temp_dir("gram-std");
  const Eigen::MatrixXd x = random_features(17, 12, 2).cast<float>().cast<double>();
  FeatureStoreReader store(write_store(dir, x));
  std::vector<int64_t> rows;
  std::vector<int> fold_of;
  for (int i = 0; i < 17; ++i) {
    rows.push_back(i);
    fold_of.push_back(i % 3);
  }
  GramParams params;
  params.slab_columns = 5;
  params.tile_rows = 3;
  const auto r = compute_gram(store, "L", rows, Preprocessing::kStandardise, fold_of, 3, params);
  ASSERT_EQ(r.grams.size(), 3u);
  for (int f = 0; f < 3; ++f) {
    // Naive reference: mean and population std over the training rows of fold f.
    Eigen::MatrixXd z = x;
    for (int c = 0; c < x.cols(); ++c) {
      double sum = 0, sq = 0, count = 0;
      for (int i = 0; i < 17; ++i)
        if (fold_of[i] != f) {
          sum += x(i, c);
          count += 1;
        }
      const double mean = sum / count;
      for (int i = 0; i < 17; ++i)
        if (fold_of[i] != f) sq += (x(i, c) - mean) * (x(i, c) - mean);
      const double sd = std::sqrt(sq / count);
      for (int i = 0; i < 17; ++i) z(i, c) = sd > 1e-6 ? (x(i, c) - mean) / sd : 0.0;
    }
    const Eigen::MatrixXd ref = z * z.transpose();
    EXPECT_LT((r.grams[f] - ref).cwiseAbs().maxCoeff(), 1e-3) << "fold " << f;
  }
}

TEST(Gram, FlagsRowsWithNonFiniteValues) {
  const auto dir = test::temp_dir("gram-nan");
  const Eigen::MatrixXd x = random_features(6, 4, 3);
  const std::string path = write_store(dir, x);
  test::write_nan(path, "/features/L", 4, 2);  // another tool wrote a NaN (ours refuses to)
  FeatureStoreReader store(path);
  const auto r = compute_gram(store, "L", {0, 4, 5}, Preprocessing::kNone, {}, 0, GramParams{});
  EXPECT_EQ(r.non_finite, (std::vector<uint8_t>{0, 1, 0}));
  EXPECT_TRUE(r.grams[0].allFinite());
}

TEST(Ensemble, UndersamplesTheMajorityClass) {
  std::vector<uint8_t> labels(40, 0);
  for (int i = 0; i < 40; i += 5) labels[i] = 1;  // 8 positives, 32 negatives
  std::vector<int> train;
  for (int i = 0; i < 40; ++i)
    if (i != 3) train.push_back(i);
  const auto samples = undersample(train, labels, 5, 9);
  ASSERT_EQ(samples.size(), 5u);
  std::set<std::vector<int>> distinct;
  for (const auto& s : samples) {
    ASSERT_EQ(s.size(), 16u);
    EXPECT_EQ(std::set<int>(s.begin(), s.end()).size(), 16u);
    int pos = 0;
    for (int r : s) {
      pos += labels[r];
      EXPECT_NE(r, 3);
    }
    EXPECT_EQ(pos, 8);
    distinct.insert(s);
  }
  EXPECT_GT(distinct.size(), 1u);
  EXPECT_EQ(undersample(train, labels, 5, 9), samples);  // seeded
  EXPECT_NE(undersample(train, labels, 5, 10), samples);
  // Positives as the majority: all negatives kept.
  std::vector<uint8_t> flipped(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) flipped[i] = 1 - labels[i];
  for (const auto& s : undersample(train, flipped, 3, 1)) EXPECT_EQ(s.size(), 16u);
  EXPECT_THROW(undersample({0, 5}, labels, 3, 1), Error);
}

TEST(Ensemble, VoteAndScoreMatchMembersTrainedByThePrimalSolver) {
  const int n = 60, d = 8;
  std::mt19937 rng(4);
  std::normal_distribution<double> normal;
  Eigen::MatrixXd x(n, d);
  std::vector<uint8_t> labels(n);
  for (int i = 0; i < n; ++i) {
    labels[i] = static_cast<uint8_t>(i % 4 == 0);
    for (int j = 0; j < d; ++j) x(i, j) = normal(rng) + (labels[i] && j < 2 ? 1.0 : 0.0);
  }
  std::vector<int> train, test;
  for (int i = 0; i < n; ++i) (i % 6 == 5 ? test : train).push_back(i);
  EnsembleParams params;
  params.models = 5;
  params.logistic.C = 0.5;
  params.logistic.tolerance = 1e-14;
  const uint64_t seed = 1234;
  const Eigen::MatrixXd gram = x * x.transpose();
  const auto ensemble = train_ensemble(gram, train, labels, params, seed);
  const auto prediction = predict_ensemble(gram, ensemble, test);
  // Reference: the same samples, each fitted in primal form, averaged and voted here.
  const auto samples = undersample(train, labels, params.models, seed);
  LogisticParams lp;
  lp.C = params.logistic.C;
  lp.tolerance = 1e-14;
  for (size_t t = 0; t < test.size(); ++t) {
    double score = 0;
    int votes = 0;
    for (const auto& s : samples) {
      Eigen::MatrixXd xs(s.size(), d);
      std::vector<uint8_t> ys(s.size());
      for (size_t i = 0; i < s.size(); ++i) {
        xs.row(i) = x.row(s[i]);
        ys[i] = labels[s[i]];
      }
      const auto m = fit_primal_logistic(xs, ys, lp);
      const double f = x.row(test[t]).dot(m.weights) + m.bias;
      score += 1 / (1 + std::exp(-f));
      votes += f > 0;
    }
    EXPECT_NEAR(prediction.score[t], score / samples.size(), 1e-7);
    EXPECT_EQ(prediction.vote[t], votes >= 3 ? 1 : 0);
  }
  params.models = 4;
  EXPECT_NE(params.check(), "");
}

// The C path (each member's sub-Gram made once, fits warm-started along C) against members fitted
// one by one in primal form at each C: m > 512, so the float32 factor, CG and the paired kernels
// all run.
TEST(Ensemble, PathMatchesPrimalFitsAtEachC) {
  const int n = 1300, d = 6;
  std::mt19937 rng(8);
  std::normal_distribution<double> normal;
  Eigen::MatrixXd x(n, d);
  std::vector<uint8_t> labels(n);
  for (int i = 0; i < n; ++i) {
    labels[i] = static_cast<uint8_t>(i % 9 < 4);
    for (int j = 0; j < d; ++j) x(i, j) = normal(rng) + (labels[i] && j < 3 ? 0.7 : 0.0);
  }
  std::vector<int> train, test;
  for (int i = 0; i < n; ++i) (i % 10 == 3 ? test : train).push_back(i);
  EnsembleParams params;
  params.models = 3;
  params.logistic.tolerance = 1e-14;
  const std::vector<double> c_values = {0.01, 1.0, 100.0};
  const uint64_t seed = 99;
  const Eigen::MatrixXd gram = x * x.transpose();
  const auto path = train_ensemble_path(gram, train, labels, params, c_values, seed);
  ASSERT_EQ(path.size(), c_values.size());
  const auto samples = undersample(train, labels, params.models, seed);
  ASSERT_GT(samples[0].size(), 512u);
  for (size_t c = 0; c < c_values.size(); ++c) {
    SCOPED_TRACE(c_values[c]);
    const auto prediction = predict_ensemble(gram, path[c], test);
    LogisticParams lp;
    lp.C = c_values[c];
    lp.tolerance = 1e-14;
    std::vector<Eigen::VectorXd> weights;
    std::vector<double> biases;
    for (const auto& s : samples) {
      Eigen::MatrixXd xs(s.size(), d);
      std::vector<uint8_t> ys(s.size());
      for (size_t i = 0; i < s.size(); ++i) {
        xs.row(static_cast<Eigen::Index>(i)) = x.row(s[i]);
        ys[i] = labels[static_cast<size_t>(s[i])];
      }
      const auto m = fit_primal_logistic(xs, ys, lp);
      weights.push_back(m.weights);
      biases.push_back(m.bias);
    }
    for (size_t t = 0; t < test.size(); ++t) {
      double score = 0;
      for (size_t k = 0; k < samples.size(); ++k)
        score += 1 / (1 + std::exp(-(x.row(test[t]).dot(weights[k]) + biases[k])));
      EXPECT_NEAR(prediction.score[t], score / samples.size(), 1e-6);
    }
  }
  // All C at once: as one prediction per C.
  const auto predictions = predict_ensemble_path(gram, path, test);
  ASSERT_EQ(predictions.size(), path.size());
  for (size_t c = 0; c < path.size(); ++c) {
    const auto one = predict_ensemble(gram, path[c], test);
    EXPECT_EQ(predictions[c].votes, one.votes);
    EXPECT_EQ(predictions[c].vote, one.vote);
    for (size_t t = 0; t < test.size(); ++t)
      EXPECT_NEAR(predictions[c].score[t], one.score[t], 1e-9);  // summation order
  }
  EXPECT_THROW(train_ensemble_path(gram, train, labels, params, {1.0, -1.0}, seed), Error);
}

TEST(Gram, SgemmProductMatchesNaiveDotProducts) {
  if (!detail::sgemm_available()) GTEST_SKIP() << "this build has no oneDNN";
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> u(-1, 1);
  for (const auto& [ni, nj, w] :
       {std::make_tuple(9, 7, 1037), std::make_tuple(1, 1, 5), std::make_tuple(300, 17, 600)}) {
    const int lda = w + 3, ldc = nj + 2;  // strides that differ from the widths
    std::vector<float> a(static_cast<size_t>(ni * lda)), b(static_cast<size_t>(nj * lda));
    for (auto& v : a) v = u(rng);
    for (auto& v : b) v = u(rng);
    std::vector<float> c(static_cast<size_t>(ni * ldc), -7.0f);
    detail::sgemm_product(a.data(), lda, b.data(), lda, ni, nj, w, c.data(), ldc);
    for (int i = 0; i < ni; ++i) {
      for (int j = 0; j < nj; ++j) {
        double ref = 0;
        for (int k = 0; k < w; ++k) ref += static_cast<double>(a[i * lda + k]) * b[j * lda + k];
        EXPECT_NEAR(c[i * ldc + j], ref, 1e-4 * std::sqrt(w)) << i << "," << j;
      }
      EXPECT_EQ(c[i * ldc + nj], -7.0f) << "wrote past the row";
    }
  }
}

TEST(Gram, TileProductMatchesNaiveDotProducts) {
  // Odd sizes exercise the 4 x 3 blocks, their edges and the w % 8 tail.
  std::mt19937 rng(8);
  std::uniform_real_distribution<float> u(-1, 1);
  for (const auto& [ni, nj, w] : {std::make_tuple(9, 7, 1037), std::make_tuple(4, 3, 16),
                                  std::make_tuple(1, 1, 5), std::make_tuple(13, 11, 600)}) {
    const int lda = w + 3;
    std::vector<float> a(static_cast<size_t>(ni * lda)), b(static_cast<size_t>(nj * lda));
    for (auto& v : a) v = u(rng);
    for (auto& v : b) v = u(rng);
    std::vector<float> c(static_cast<size_t>(ni * nj)), g(c.size());
    detail::tile_product(a.data(), lda, b.data(), lda, ni, nj, w, c.data());
    detail::tile_product_generic(a.data(), lda, b.data(), lda, ni, nj, w, g.data());
    for (int i = 0; i < ni; ++i)
      for (int j = 0; j < nj; ++j) {
        double ref = 0;
        for (int k = 0; k < w; ++k) ref += static_cast<double>(a[i * lda + k]) * b[j * lda + k];
        EXPECT_NEAR(c[i * nj + j], ref, 1e-4 * std::sqrt(w)) << i << "," << j;
        EXPECT_NEAR(g[i * nj + j], ref, 1e-4 * std::sqrt(w));
      }
  }
}
