// Gated-attention MIL: the hand-derived gradient against central finite differences, the
// attention's invariants, a multiple-instance problem that mean pooling dilutes, determinism.
#include <gtest/gtest.h>

#include <random>

#include "ishannot/common/error.h"
#include "ishannot/learn/attention_mil.h"
#include "support/test_util.h"

using namespace ishannot;

namespace {

MilData small_data(unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  MilData d;
  d.inputs.resize(5, 7);
  for (Eigen::Index c = 0; c < 7; ++c)
    for (Eigen::Index r = 0; r < 5; ++r) d.inputs(r, c) = normal(rng);
  d.bags = {{0}, {1, 2}, {3, 4, 5, 6}};
  d.labels.resize(3, 3);
  d.labels << 1, 0, 1, 0, 1, 1, 1, 1, 0;
  d.genes = {"g1", "g2", "g3"};
  return d;
}

// Bags of 2-6 images; the positive bags of term t hold ONE image shifted along input t, the
// others are noise: a multiple-instance problem.
MilData key_instance_data(int bags, unsigned seed, std::vector<int>& key) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  std::uniform_int_distribution<int> size(2, 6);
  MilData d;
  std::vector<Eigen::VectorXd> images;
  d.labels = Eigen::MatrixXd::Zero(bags, 2);
  for (int b = 0; b < bags; ++b) {
    const int n = size(rng);
    std::vector<int> rows;
    for (int i = 0; i < n; ++i) {
      Eigen::VectorXd z(6);
      for (int r = 0; r < 6; ++r) z(r) = normal(rng);
      rows.push_back(static_cast<int>(images.size()));
      images.push_back(z);
    }
    key.push_back(-1);
    for (int t = 0; t < 2; ++t)
      if ((b + t) % 3 == 0) {
        d.labels(b, t) = 1;
        const int i = rows[static_cast<size_t>((b / 3) % n)];
        images[static_cast<size_t>(i)](t) += 3.0;
        if (t == 0) key.back() = i;
      }
    d.bags.push_back(rows);
    d.genes.push_back("gene" + std::to_string(b));
  }
  d.inputs.resize(6, static_cast<Eigen::Index>(images.size()));
  for (size_t i = 0; i < images.size(); ++i) d.inputs.col(static_cast<Eigen::Index>(i)) = images[i];
  return d;
}

AttentionMilParams small_params() {
  AttentionMilParams p;
  p.hidden = 4;
  p.attention = 3;
  return p;
}

}  // namespace

TEST(AttentionMil, GradientEqualsFiniteDifferences) {
  const MilData data = small_data(3);
  AttentionMil model = init_attention_mil(5, 3, small_params(), 99);
  for (auto* p : model.parameters()) p->array() += 0.05;  // non-zero biases too
  Eigen::MatrixXd weights(2, 3);
  weights << 0.7, 1.2, 0.9, 1.5, 0.6, 1.1;
  const std::vector<int> batch = {0, 1, 2};
  AttentionMil gradient;
  attention_mil_loss(model, data, batch, weights, 0.01, &gradient);
  const double h = 1e-6;
  double worst = 0;
  auto params = model.parameters();
  auto grads = gradient.parameters();
  for (size_t k = 0; k < params.size(); ++k)
    for (Eigen::Index i = 0; i < params[k]->size(); ++i) {
      const double keep = params[k]->data()[i];
      params[k]->data()[i] = keep + h;
      const double up = attention_mil_loss(model, data, batch, weights, 0.01, nullptr);
      params[k]->data()[i] = keep - h;
      const double down = attention_mil_loss(model, data, batch, weights, 0.01, nullptr);
      params[k]->data()[i] = keep;
      const double numeric = (up - down) / (2 * h);
      worst = std::max(worst,
                       std::abs(numeric - grads[k]->data()[i]) / std::max(1e-4, std::abs(numeric)));
    }
  EXPECT_LT(worst, 1e-5);
}

TEST(AttentionMil, AttentionSumsToOneAndIgnoresTheImageOrder) {
  const MilData data = small_data(5);
  const AttentionMil model = init_attention_mil(5, 3, small_params(), 99);
  Eigen::MatrixXd z(5, 4), reversed(5, 4);
  for (int i = 0; i < 4; ++i) {
    z.col(i) = data.inputs.col(3 + i);
    reversed.col(3 - i) = data.inputs.col(3 + i);
  }
  const MilOutput out = attention_mil_forward(model, z);
  const MilOutput back = attention_mil_forward(model, reversed);
  for (int t = 0; t < 3; ++t) {
    EXPECT_NEAR(out.attention.row(t).sum(), 1.0, 1e-12);
    EXPECT_NEAR(out.logits(t), back.logits(t), 1e-12);
    for (int i = 0; i < 4; ++i) EXPECT_NEAR(out.attention(t, i), back.attention(t, 3 - i), 1e-12);
  }
  const MilOutput one = attention_mil_forward(model, data.inputs.col(0));
  EXPECT_EQ(one.attention.cols(), 1);
  EXPECT_DOUBLE_EQ(one.attention(0, 0), 1.0);
  EXPECT_THROW(attention_mil_forward(model, Eigen::MatrixXd(4, 2)), Error);
}

TEST(AttentionMil, LearnsAKeyInstanceProblemAndAttendsToTheKey) {
  std::vector<int> key;
  const MilData data = key_instance_data(300, 11, key);
  std::vector<int> train, test;
  for (int b = 0; b < 300; ++b) (b % 5 == 0 ? test : train).push_back(b);
  AttentionMilParams params;
  params.hidden = 16;
  params.attention = 8;
  params.learning_rate = 5e-3;
  const MilTraining fit = train_attention_mil(data, train, params, 1234);
  EXPECT_GT(fit.validation_bags, 0);
  EXPECT_GE(fit.best_epoch, 1);
  std::vector<double> score, mean_score;
  std::vector<int> label;
  int attended = 0, positives = 0;
  for (int b : test) {
    Eigen::MatrixXd z(6, static_cast<Eigen::Index>(data.bags[static_cast<size_t>(b)].size()));
    for (size_t i = 0; i < data.bags[static_cast<size_t>(b)].size(); ++i)
      z.col(static_cast<Eigen::Index>(i)) = data.inputs.col(data.bags[static_cast<size_t>(b)][i]);
    const MilOutput out = attention_mil_forward(fit.model, z);
    score.push_back(out.logits(0));
    mean_score.push_back(z.row(0).mean());  // mean pooling of the informative input
    label.push_back(data.labels(b, 0) > 0.5 ? 1 : 0);
    if (label.back()) {
      ++positives;
      Eigen::Index top;
      out.attention.row(0).maxCoeff(&top);
      attended += data.bags[static_cast<size_t>(b)][static_cast<size_t>(top)] ==
                  key[static_cast<size_t>(b)];
    }
  }
  // The best possible detector (the key's +3 against the max of up to 5 noise values) reaches
  // ~0.96; mean pooling of the informative input dilutes the key (0.81 here).
  EXPECT_GT(test::naive_auc(score, label), 0.9) << fit.epochs << " epochs, best " << fit.best_epoch;
  EXPECT_GT(test::naive_auc(score, label), test::naive_auc(mean_score, label) + 0.05);
  EXPECT_GT(attended, positives * 8 / 10) << attended << " of " << positives;
}

TEST(AttentionMil, SameSeedSameModelOtherSeedOtherModel) {
  std::vector<int> key;
  const MilData data = key_instance_data(60, 2, key);
  std::vector<int> train(60);
  for (int b = 0; b < 60; ++b) train[static_cast<size_t>(b)] = b;
  AttentionMilParams params = small_params();
  params.max_epochs = 30;
  const MilTraining a = train_attention_mil(data, train, params, 99);
  const MilTraining b = train_attention_mil(data, train, params, 99);
  EXPECT_EQ(a.best_epoch, b.best_epoch);
  for (size_t k = 0; k < a.model.parameters().size(); ++k)
    EXPECT_EQ(*a.model.parameters()[k], *b.model.parameters()[k]);
  const MilTraining c = train_attention_mil(data, train, params, 100);
  EXPECT_NE(a.model.A, c.model.A);
}

TEST(AttentionMil, BalancedWeightsMakeBothClassesWeighTheSame) {
  const MilData data = small_data(1);
  const Eigen::MatrixXd w = mil_term_weights(data, {0, 1, 2}, MilWeighting::kBalanced);
  // term 0: 2 positives of 3 bags -> 3/4 each; 1 negative -> 3/2.
  EXPECT_DOUBLE_EQ(w(1, 0), 0.75);
  EXPECT_DOUBLE_EQ(w(0, 0), 1.5);
  EXPECT_DOUBLE_EQ(mil_term_weights(data, {0, 1, 2}, MilWeighting::kNone)(1, 0), 1.0);
  AttentionMilParams bad;
  bad.validation_fraction = 1.0;
  EXPECT_FALSE(bad.check().empty());
}
