// Bags (eval/bags.h) and the bag level of evaluate (issue 21). References: pooled vectors and their
// Gram matrices computed by hand here (loops over a small random matrix), F1 counted by hand, and
// the image level's own folds (a bag must land in the fold of its gene's images).
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <set>

#include "ishannot/common/error.h"
#include "ishannot/eval/bags.h"
#include "ishannot/eval/evaluation.h"
#include "ishannot/eval/metrics.h"
#include "ishannot/features/feature_store.h"
#include "support/store_util.h"
#include "support/test_paths.h"

using namespace ishannot;

namespace {

// n x d values, row-major.
std::vector<float> random_rows(int n, int d, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> x(static_cast<size_t>(n * d));
  for (auto& v : x) v = normal(rng);
  return x;
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// The pooled vector of rows `members` by hand (each row times scale[row] first).
std::vector<double> pool_by_hand(const std::vector<float>& x, int d,
                                 const std::vector<int>& members, const std::vector<double>& scale,
                                 bool max) {
  std::vector<double> out(static_cast<size_t>(d), max ? -1e300 : 0.0);
  for (int r : members)
    for (int c = 0; c < d; ++c) {
      const double v = x[static_cast<size_t>(r * d + c)] * scale[static_cast<size_t>(r)];
      auto& o = out[static_cast<size_t>(c)];
      o = max ? std::max(o, v) : o + v / static_cast<double>(members.size());
    }
  return out;
}

Bags three_bags() {  // sizes 1, 3, 2 over 6 rows, rows not adjacent
  Bags bags;
  bags.genes = {"solo", "trio", "duo"};
  bags.rows = {{4}, {0, 2, 5}, {1, 3}};
  bags.dropped_rows = {0, 0, 0};
  return bags;
}

ImageRecord image(const std::string& id, const std::string& gene, const std::string& stage) {
  ImageRecord r;
  r.id = id;
  r.gene = gene;
  r.stage_range = stage;
  return r;
}

EvaluationParams small_bag_params() {
  EvaluationParams p;
  p.folds = 3;
  p.fit.inner_folds = 2;
  p.fit.c_grid = {0.1, 1};
  p.fit.ensemble.models = 3;
  p.fit.inner_models = 1;
  p.terms.top_k = 4;
  p.unit = EvaluationUnit::kBag;
  p.level = EvaluationLevel::kGroup;
  return p;
}

// 15 genes x 3 images at 13-16 (gene g carries t_a when g is even, t_b when g % 3 == 0), plus a
// gene of a single image.
Dataset bag_dataset() {
  Dataset ds;
  ds.source = "bags";
  for (int g = 0; g < 16; ++g)
    for (int i = 0; i < (g == 15 ? 1 : 3); ++i) {
      ImageRecord r = image("g" + std::to_string(g) + "_" + std::to_string(i),
                            "gene" + std::to_string(g), "13-16");
      if (g % 2 == 0) r.terms.push_back("t_a");
      if (g % 3 == 0) r.terms.push_back("t_b");
      ds.images.push_back(r);
    }
  return ds;
}

}  // namespace

TEST(Bags, MeanPooledGramEqualsPoolingByHand) {
  const int n = 6, d = 5;
  const auto x = random_rows(n, d, 7);
  Eigen::MatrixXd k(n, n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      double s = 0;
      for (int c = 0; c < d; ++c) s += double(x[size_t(i * d + c)]) * x[size_t(j * d + c)];
      k(i, j) = s;
    }
  const Bags bags = three_bags();
  const Eigen::MatrixXd pooled = mean_pooled_gram(k, bags);
  const std::vector<double> ones(n, 1.0);
  ASSERT_EQ(pooled.rows(), 3);
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b)
      EXPECT_NEAR(pooled(a, b),
                  dot(pool_by_hand(x, d, bags.rows[size_t(a)], ones, false),
                      pool_by_hand(x, d, bags.rows[size_t(b)], ones, false)),
                  1e-9);
  // l2: images normalised first (the Gram normalised), then pooled.
  Eigen::MatrixXd kn = k;
  l2_normalise_gram(kn);
  std::vector<double> inv(n);
  for (int i = 0; i < n; ++i) inv[size_t(i)] = 1 / std::sqrt(k(i, i));
  const Eigen::MatrixXd pooled_l2 = mean_pooled_gram(kn, bags);
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b)
      EXPECT_NEAR(pooled_l2(a, b),
                  dot(pool_by_hand(x, d, bags.rows[size_t(a)], inv, false),
                      pool_by_hand(x, d, bags.rows[size_t(b)], inv, false)),
                  1e-9);
}

TEST(Bags, MaxPooledGramFromTheStoreEqualsPoolingByHand) {
  const auto dir = test::temp_dir("bags-max");
  const int n = 6, d = 7;
  const auto x = random_rows(n, d, 9);
  // The store holds the rows in another order, with an extra row.
  const std::vector<int> order = {3, 0, 5, 1, 4, 2};
  std::vector<std::string> ids;
  std::vector<float> stored;
  for (int r : order) {
    ids.push_back("r" + std::to_string(r));
    stored.insert(stored.end(), x.begin() + r * d, x.begin() + (r + 1) * d);
  }
  ids.push_back("extra");
  for (int c = 0; c < d; ++c) stored.push_back(100);
  {
    FeatureStoreWriter w(dir + "/f.h5", {{"feat", d, ""}}, FeatureDtype::kFloat32,
                         {{"backbone", "synthetic"}});
    w.append(ids, {{"feat", stored.data()}});
    w.close();
  }
  FeatureStoreReader store(dir + "/f.h5");
  std::vector<int64_t> store_rows(n);
  for (int s = 0; s < n; ++s) store_rows[size_t(order[size_t(s)])] = s;
  std::vector<double> scale = {0.5, 1, 2, 1.5, 0.25, 3};
  const Bags bags = three_bags();
  GramParams gp;
  gp.slab_columns = 3;  // 3 slabs, the last one narrower
  const Eigen::MatrixXd k = max_pooled_gram(store, "feat", store_rows, scale, bags, gp);
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b)
      EXPECT_NEAR(k(a, b),
                  dot(pool_by_hand(x, d, bags.rows[size_t(a)], scale, true),
                      pool_by_hand(x, d, bags.rows[size_t(b)], scale, true)),
                  1e-5);
  // pool_bag: the vector annotate applies, mean ‖ max with unit halves.
  const auto& trio = bags.rows[1];
  std::vector<float> rows;
  std::vector<double> trio_scale;
  for (int r : trio) {
    rows.insert(rows.end(), x.begin() + r * d, x.begin() + (r + 1) * d);
    trio_scale.push_back(scale[size_t(r)]);
  }
  const auto v = pool_bag(rows.data(), 3, d, trio_scale, BagPool::kMeanMax, true);
  auto mean = pool_by_hand(x, d, trio, scale, false), max = pool_by_hand(x, d, trio, scale, true);
  ASSERT_EQ(v.size(), size_t(2 * d));
  for (int c = 0; c < d; ++c) {
    EXPECT_NEAR(v[size_t(c)], mean[size_t(c)] / std::sqrt(dot(mean, mean)), 1e-6);
    EXPECT_NEAR(v[size_t(d + c)], max[size_t(c)] / std::sqrt(dot(max, max)), 1e-6);
  }
}

TEST(Bags, GroupsByGeneKeepsBagsOfOneAndRefusesMixedStageRanges) {
  const ImageRecord a0 = image("a0", "A", "4-6"), b0 = image("b0", "B", "4-6"),
                    a1 = image("a1", "A", "4-6"), c0 = image("c0", "C", "4-6");
  Bags bags = make_bags({&a0, &b0, &a1, &c0}, {0, 1, 0, 0}, "m.csv");
  ASSERT_EQ(bags.size(), 2);  // B's only image is flagged: no bag
  EXPECT_EQ(bags.genes, (std::vector<std::string>{"A", "C"}));
  EXPECT_EQ(bags.rows[0], (std::vector<int>{0, 2}));
  EXPECT_EQ(bags.rows[1], (std::vector<int>{3}));  // a bag of one image
  const ImageRecord a2 = image("a2", "A", "13-16");
  try {
    make_bags({&a0, &a2}, {}, "m.csv");
    FAIL() << "mixed stage ranges accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("gene A"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("m.csv"), std::string::npos) << e.what();
  }
}

TEST(Bags, F1CountedByHand) {
  // TP = 2, FP = 1, FN = 1: F1 = 4 / 6.
  EXPECT_NEAR(*f1_score({1, 1, 1, 0, 0}, {1, 1, 0, 1, 0}), 4.0 / 6, 1e-12);
  EXPECT_FALSE(f1_score({0, 0}, {0, 0}).has_value());
}

TEST(BagEvaluation, SameFoldsAsImagesOneRowPerBagAndBagsOfOneCount) {
  const auto dir = test::temp_dir("bags-eval");
  const Dataset ds = bag_dataset();
  Dataset stored = ds;
  stored.images.erase(stored.images.begin() + 1);  // g0_1 has no features: gene0 pools 2 of 3
  test::write_store_for(dir + "/f.h5", stored);
  FeatureStoreReader store(dir + "/f.h5");
  EvaluationParams image_params = small_bag_params();
  image_params.unit = EvaluationUnit::kImage;
  const auto images = run_evaluation(ds, store, image_params);
  std::map<std::string, int> fold_of_gene;
  for (const auto& p : images.predictions) fold_of_gene[p.gene] = p.fold;
  for (const BagPool pool :
       {BagPool::kMean, BagPool::kMax, BagPool::kMeanMax, BagPool::kAttention}) {
    EvaluationParams params = small_bag_params();
    params.bag_pool = pool;
    const auto r = run_evaluation(ds, store, params);
    EXPECT_TRUE(r.predictions.empty());
    std::map<std::string, std::set<std::string>> genes_of_term;
    std::map<std::string, int> images_of_gene;
    for (const auto& g : r.group_predictions) {
      EXPECT_EQ(g.fold, fold_of_gene.at(g.gene)) << g.gene;  // the image level's outer fold
      EXPECT_TRUE(genes_of_term[g.term].insert(g.gene).second) << "two rows for " << g.gene;
      images_of_gene[g.gene] = g.images;
    }
    EXPECT_EQ(images_of_gene.at("gene15"), 1);  // the bag of one image is there, counted
    EXPECT_EQ(images_of_gene.at("gene0"), 2);
    EXPECT_EQ(images_of_gene.at("gene1"), 3);
    EXPECT_EQ(genes_of_term["t_a"].size(), 16u);
    bool lost_note = false;
    for (const auto& s : r.skipped)
      lost_note |= s.reason.find("1 bag lost images") != std::string::npos &&
                   s.reason.find("gene0: 2 of 3") != std::string::npos;
    EXPECT_TRUE(lost_note);
    double auc = 0;
    int f1 = 0;
    for (const auto& s : r.summary) {
      if (s.metric == "group_auc") auc = s.over_terms.mean;
      if (s.metric == "group_f1") ++f1;
    }
    EXPECT_GT(auc, 0.8) << bag_pool_name(pool);
    EXPECT_EQ(f1, 1);
    for (const auto& m : r.metrics)  // group metrics, and the chosen C (attention: its epoch)
      if (m.metric != "C" && m.metric != "epochs") {
        EXPECT_EQ(m.metric.rfind("group_", 0), 0u) << m.metric;
      }
  }
}

// Attention MIL learns each outer fold from its training images only (kernel PCA and model): a
// test bag's features change nothing in the scores of the other test bags of its fold.
TEST(BagEvaluation, AttentionScoresOfAFoldIgnoreItsOtherTestBags) {
  const auto dir = test::temp_dir("bags-attention");
  const Dataset ds = bag_dataset();
  test::write_store_for(dir + "/a.h5", ds);
  test::write_store_for(dir + "/b.h5", ds, 3, [](const std::string& id, float* x) {
    if (id.rfind("g4_", 0) == 0)
      for (int j = 0; j < 12; ++j) x[j] = -3.0f * x[j] + 1.0f;
  });
  EvaluationParams params = small_bag_params();
  params.bag_pool = BagPool::kAttention;
  params.attention.max_epochs = 40;
  const auto a = run_evaluation(ds, FeatureStoreReader(dir + "/a.h5"), params);
  const auto b = run_evaluation(ds, FeatureStoreReader(dir + "/b.h5"), params);
  ASSERT_EQ(a.group_predictions.size(), b.group_predictions.size());
  int fold4 = -1;
  for (const auto& g : a.group_predictions)
    if (g.gene == "gene4") fold4 = g.fold;
  ASSERT_GE(fold4, 0);
  int same = 0, changed = 0;
  for (size_t i = 0; i < a.group_predictions.size(); ++i) {
    const auto &x = a.group_predictions[i], &y = b.group_predictions[i];
    ASSERT_EQ(x.gene, y.gene);
    if (x.fold != fold4) continue;
    if (x.gene == "gene4") {
      changed += x.score != y.score;
    } else {
      EXPECT_EQ(x.score, y.score) << x.gene << " " << x.term;
      ++same;
    }
  }
  EXPECT_GT(same, 0);
  EXPECT_GT(changed, 0);  // the edited bag itself is scored from its own features
  // Deterministic: the same run twice gives the same scores.
  const auto again = run_evaluation(ds, FeatureStoreReader(dir + "/a.h5"), params);
  for (size_t i = 0; i < a.group_predictions.size(); ++i)
    EXPECT_EQ(a.group_predictions[i].score, again.group_predictions[i].score);
}

TEST(BagEvaluation, BagUnitNeedsTheGroupLevel) {
  EvaluationParams params = small_bag_params();
  params.level = EvaluationLevel::kBoth;
  EXPECT_NE(params.check().find("group"), std::string::npos);
  params.level = EvaluationLevel::kGroup;
  params.bag_pool = BagPool::kMax;
  params.preprocessing = Preprocessing::kStandardise;
  EXPECT_FALSE(params.check().empty());
  params.bag_pool = BagPool::kAttention;
  EXPECT_FALSE(params.check().empty());
  params.bag_pool = BagPool::kMean;
  EXPECT_EQ(params.check(), "");
  EXPECT_THROW(pool_bag(nullptr, 1, 1, {1.0}, BagPool::kAttention, false), Error);
}
