// train --unit bag and annotate with a bag bundle (issue 21). References: (1) an image bundle
// trained on one image per gene whose features are the bag's pooled vector computed by hand — the
// bag bundle must hold the very same weights (the Grams, folds, seeds and fits coincide, so this
// checks the map from bag coefficients back to image rows, 1/|b| and the bag norm included);
// (2) the group scores and evidence recomputed by hand from the bundle's weights and the store.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <sstream>

#include "ishannot/annotate/annotate.h"
#include "ishannot/annotate/model_bundle.h"
#include "ishannot/annotate/train.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/features/feature_store.h"
#include "ishannot/report/run_outputs.h"
#include "support/test_paths.h"

using namespace ishannot;

namespace {

constexpr int kDim = 10;

// 14 genes x 3 images at 13-16; term t_a on even genes, t_b on genes % 3 == 0; features = the
// terms' patterns plus noise, and a random scale per image (l2 must undo it).
struct BagData {
  Dataset images;
  std::map<std::string, std::vector<std::vector<double>>> rows;  // gene -> its images' raw rows
};

BagData bag_data() {
  BagData d;
  d.images.source = "bag-bundle";
  std::mt19937 rng(5);
  std::normal_distribution<double> normal;
  std::vector<double> pa(kDim), pb(kDim);
  for (auto& v : pa) v = 2 * normal(rng);
  for (auto& v : pb) v = 2 * normal(rng);
  for (int g = 0; g < 14; ++g)
    for (int i = 0; i < 3; ++i) {
      ImageRecord r;
      r.gene = "gene" + std::to_string(g);
      r.id = "g" + std::to_string(g) + "_" + std::to_string(i);
      r.stage_range = "13-16";
      if (g % 2 == 0) r.terms.push_back("t_a");
      if (g % 3 == 0) r.terms.push_back("t_b");
      std::vector<double> x(kDim);
      const double scale = 0.5 + (i + g % 4) * 0.7;
      for (int c = 0; c < kDim; ++c)
        x[size_t(c)] = scale * (normal(rng) + (g % 2 == 0 && i != 1 ? pa[size_t(c)] : 0) +
                                (g % 3 == 0 ? pb[size_t(c)] : 0));
      d.rows[r.gene].push_back(x);
      d.images.images.push_back(r);
    }
  return d;
}

void write_store(const std::string& path, const std::vector<std::string>& ids,
                 const std::vector<std::vector<double>>& rows) {
  std::vector<float> values;
  for (const auto& r : rows)
    for (double v : r) values.push_back(static_cast<float>(v));
  FeatureStoreWriter w(path, {{"feat", kDim, ""}}, FeatureDtype::kFloat32,
                       {{"backbone", "synthetic"}});
  w.append(ids, {{"feat", values.data()}});
  w.close();
}

std::vector<double> unit(std::vector<double> v) {
  double s = 0;
  for (double x : v) s += x * x;
  for (double& x : v) x /= std::sqrt(s);
  return v;
}

// The bag's pooled vector by hand: images to unit norm, mean or max, to unit norm.
std::vector<double> pooled(const std::vector<std::vector<double>>& rows, bool max) {
  std::vector<double> out(kDim, max ? -1e300 : 0.0);
  for (const auto& r : rows) {
    const auto z = unit(r);
    for (int c = 0; c < kDim; ++c)
      out[size_t(c)] = max ? std::max(out[size_t(c)], z[size_t(c)])
                           : out[size_t(c)] + z[size_t(c)] / double(rows.size());
  }
  return unit(out);
}

TrainParams bag_train_params(bool max) {
  TrainParams p;
  p.folds = 0;  // no CV: only the final fits are compared
  p.fit.c_grid = {1.0};
  p.fit.ensemble.models = 3;
  p.terms.top_k = 2;
  p.unit = EvaluationUnit::kBag;
  p.bag_pool = max ? BagPool::kMax : BagPool::kMean;
  return p;
}

std::vector<std::vector<std::string>> read_tsv(const std::string& path) {
  std::istringstream in(read_text_file(path));
  std::vector<std::vector<std::string>> rows;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells;
    std::istringstream l(line);
    for (std::string c; std::getline(l, c, '\t');) cells.push_back(c);
    rows.push_back(cells);
  }
  return rows;
}

}  // namespace

TEST(BagBundle, WeightsEqualAnImageBundleOnHandPooledVectors) {
  const auto dir = test::temp_dir("bag-bundle");
  const BagData data = bag_data();
  std::vector<std::string> ids;
  std::vector<std::vector<double>> rows;
  for (const auto& image : data.images.images) ids.push_back(image.id);
  for (const auto& image : data.images.images)
    rows.push_back(data.rows.at(image.gene)[size_t(image.id.back() - '0')]);
  write_store(dir + "/images.h5", ids, rows);
  for (const bool max : {false, true}) {
    // The reference: one image per gene holding the pooled vector.
    Dataset genes;
    genes.source = "genes";
    std::vector<std::string> gene_ids;
    std::vector<std::vector<double>> gene_rows;
    for (const auto& image : data.images.images)
      if (image.id.back() == '0') {
        ImageRecord r = image;
        r.id = image.gene;
        genes.images.push_back(r);
        gene_ids.push_back(r.id);
        gene_rows.push_back(pooled(data.rows.at(image.gene), max));
      }
    write_store(dir + "/genes.h5", gene_ids, gene_rows);
    TrainParams image_params = bag_train_params(max);
    image_params.unit = EvaluationUnit::kImage;
    train_model(genes, FeatureStoreReader(dir + "/genes.h5"), image_params, dir + "/ref.h5");
    train_model(data.images, FeatureStoreReader(dir + "/images.h5"), bag_train_params(max),
                dir + "/bag.h5");
    ModelBundle ref = read_model_bundle(dir + "/ref.h5"), bag = read_model_bundle(dir + "/bag.h5");
    EXPECT_EQ(bag.attributes.at("unit"), "bag");
    EXPECT_EQ(bag.attributes.at("bag_pool"), max ? "max" : "mean");
    StageModel rs = *ref.stage("13-16"), bs = *bag.stage("13-16");
    load_stage_weights(ref, rs);
    load_stage_weights(bag, bs);
    ASSERT_EQ(rs.terms.size(), bs.terms.size());
    EXPECT_EQ(bs.images, 42);                                      // training images, not bags
    EXPECT_EQ(bs.terms[0].positives + bs.terms[0].negatives, 14);  // bags
    ASSERT_EQ(rs.weights.rows(), bs.weights.rows());
    for (Eigen::Index r = 0; r < rs.weights.rows(); ++r)
      for (Eigen::Index c = 0; c < kDim; ++c)
        EXPECT_NEAR(bs.weights(r, c), rs.weights(r, c), 1e-4 * (1 + std::abs(rs.weights(r, c))))
            << (max ? "max" : "mean") << " member " << r << " column " << c;
    for (size_t t = 0; t < rs.terms.size(); ++t)
      for (size_t k = 0; k < rs.terms[t].bias.size(); ++k)
        EXPECT_NEAR(bs.terms[t].bias[k], rs.terms[t].bias[k], 1e-4);
  }
}

TEST(BagBundle, AnnotateScoresGroupsAndSharesByHand) {
  const auto dir = test::temp_dir("bag-annotate");
  const BagData data = bag_data();
  std::vector<std::string> ids;
  std::vector<std::vector<double>> rows;
  for (const auto& image : data.images.images) {
    if (image.id == "g3_2") continue;  // no features: skipped, the group pools 2 images
    ids.push_back(image.id);
    rows.push_back(data.rows.at(image.gene)[size_t(image.id.back() - '0')]);
  }
  write_store(dir + "/images.h5", ids, rows);
  train_model(data.images, FeatureStoreReader(dir + "/images.h5"), bag_train_params(false),
              dir + "/bag.h5");
  ModelBundle bundle = read_model_bundle(dir + "/bag.h5");
  auto source = store_feature_source(dir + "/images.h5");
  annotate_images(data.images, bundle, *source, AnnotateParams(), dir + "/out");
  StageModel stage = *bundle.stage("13-16");
  load_stage_weights(bundle, stage);
  const int m = bundle.models;
  std::map<std::pair<std::string, std::string>, double> evidence_sum;
  const auto evidence = read_tsv(dir + "/out/group_evidence.tsv");
  ASSERT_EQ(evidence[0][9], "contribution");
  for (size_t r = 1; r < evidence.size(); ++r)
    evidence_sum[{evidence[r][0], evidence[r][3]}] += std::stod(evidence[r][9]);
  const auto groups = read_tsv(dir + "/out/groups.tsv");
  ASSERT_EQ(groups[0][7], "rule");
  ASSERT_EQ(groups.size(), 1 + 14 * stage.terms.size());
  for (size_t r = 1; r < groups.size(); ++r) {
    const std::string gene = groups[r][0], term = groups[r][3];
    std::vector<std::vector<double>> kept = data.rows.at(gene);
    if (gene == "gene3") kept.pop_back();
    EXPECT_EQ(groups[r][6], std::to_string(kept.size()));
    EXPECT_EQ(groups[r][7], "bag:mean");
    const auto v = pooled(kept, false);
    size_t t = 0;
    while (stage.terms[t].term != term) ++t;
    double score = 0, decision = 0, bias = 0;
    for (int k = 0; k < m; ++k) {
      double z = stage.terms[t].bias[size_t(k)];
      for (int c = 0; c < kDim; ++c)
        z += double(stage.weights(Eigen::Index(t) * m + k, c)) * v[size_t(c)];
      score += 1 / (1 + std::exp(-z)) / m;
      decision += z / m;
      bias += stage.terms[t].bias[size_t(k)] / m;
    }
    EXPECT_NEAR(std::stod(groups[r][4]), score, 1e-5) << gene << " " << term;
    const double shares = evidence_sum[{gene, term}];
    EXPECT_NEAR(shares, decision - bias, 1e-4) << gene << " " << term;
  }
  EXPECT_NE(read_text_file(dir + "/out/skipped.tsv").find("g3_2"), std::string::npos);
  // The same columns as an image bundle's run (calls and trust included), so that report and
  // the Python API read a bag run alike; the header is written here by hand.
  EXPECT_EQ(groups[0], (std::vector<std::string>{
                           "gene", "stage_range", "stage_order", "term", "score", "predicted",
                           "images", "rule", "probability", "call", "term_auc", "term_cv_folds",
                           "term_positive_genes", "term_positives", "validated"}));
  const auto annotations = read_tsv(dir + "/out/annotations.tsv");
  ASSERT_GE(annotations[0].size(), 12u);
  EXPECT_EQ(annotations[0][9], "predicted");
  EXPECT_EQ(annotations[0][11], "call");
  for (size_t r = 1; r < annotations.size(); ++r) {  // calibrated on bags, not on single images
    EXPECT_EQ(annotations[r][10], "");
    EXPECT_EQ(annotations[r][11], "uncertain");
  }
  for (size_t r = 1; r < groups.size(); ++r) {
    const std::string& call = groups[r][9];
    EXPECT_TRUE(call == "yes" || call == "no" || call == "uncertain") << call;
  }
  const AnnotationRun run = read_annotation_run(dir + "/out");
  EXPECT_EQ(run.groups.size(), groups.size() - 1);
  EXPECT_EQ(run.evidence.size(), evidence.size() - 1);
}

namespace {

// The MIL forward pass written out with loops (the reference for annotate's attention bundle):
// logits and attention weights of one bag of coordinate columns.
void mil_by_hand(const AttentionMil& m, const std::vector<std::vector<double>>& z,
                 std::vector<double>& logits, std::vector<std::vector<double>>& attention) {
  const size_t n = z.size();
  const Eigen::Index hidden = m.A.rows(), att = m.V.rows(), terms = m.W.rows();
  std::vector<std::vector<double>> h(n, std::vector<double>(size_t(hidden)));
  std::vector<std::vector<double>> s(n, std::vector<double>(size_t(att)));
  for (size_t i = 0; i < n; ++i) {
    for (Eigen::Index j = 0; j < hidden; ++j) {
      double p = m.a(j, 0);
      for (Eigen::Index k = 0; k < m.A.cols(); ++k) p += m.A(j, k) * z[i][size_t(k)];
      h[i][size_t(j)] = std::max(0.0, p);
    }
    for (Eigen::Index j = 0; j < att; ++j) {
      double q = m.v(j, 0), r = m.u(j, 0);
      for (Eigen::Index k = 0; k < hidden; ++k) {
        q += m.V(j, k) * h[i][size_t(k)];
        r += m.U(j, k) * h[i][size_t(k)];
      }
      s[i][size_t(j)] = std::tanh(q) / (1 + std::exp(-r));
    }
  }
  logits.assign(size_t(terms), 0);
  attention.assign(size_t(terms), std::vector<double>(n));
  for (Eigen::Index t = 0; t < terms; ++t) {
    double total = 0;
    for (size_t i = 0; i < n; ++i) {
      double e = 0;
      for (Eigen::Index j = 0; j < att; ++j) e += m.W(t, j) * s[i][size_t(j)];
      attention[size_t(t)][i] = std::exp(e);
      total += attention[size_t(t)][i];
    }
    double logit = m.b(t, 0);
    for (size_t i = 0; i < n; ++i) {
      attention[size_t(t)][i] /= total;
      for (Eigen::Index j = 0; j < hidden; ++j)
        logit += m.C(t, j) * attention[size_t(t)][i] * h[i][size_t(j)];
    }
    logits[size_t(t)] = logit;
  }
}

}  // namespace

// train --unit bag --bag-pool attention, then annotate: the group scores and attention weights
// recomputed by hand from the bundle (projection, offset, MIL parameters) and the store; the
// training images' coordinates are centred with mean variance 1, as kernel PCA makes them.
TEST(BagBundle, AttentionBundleScoresAndWeighsImagesByHand) {
  const auto dir = test::temp_dir("bag-attention");
  const BagData data = bag_data();
  std::vector<std::string> ids;
  std::vector<std::vector<double>> rows;
  for (const auto& image : data.images.images) {
    ids.push_back(image.id);
    rows.push_back(data.rows.at(image.gene)[size_t(image.id.back() - '0')]);
  }
  write_store(dir + "/images.h5", ids, rows);
  TrainParams params = bag_train_params(false);
  params.bag_pool = BagPool::kAttention;
  params.folds = 3;  // CV: the terms' quality and calibration from evaluate's attention folds
  params.pca.components = 6;
  params.attention.max_epochs = 60;
  train_model(data.images, FeatureStoreReader(dir + "/images.h5"), params, dir + "/att.h5");
  const ModelBundle bundle = read_model_bundle(dir + "/att.h5");
  EXPECT_EQ(bundle.attributes.at("bag_pool"), "attention");
  EXPECT_EQ(bundle.models, 1);
  StageModel stage = *bundle.stage("13-16");
  load_stage_weights(bundle, stage);
  ASSERT_GT(stage.mil_components, 0);
  ASSERT_LE(stage.mil_components, 6);
  ASSERT_EQ(stage.weights.rows(), stage.mil_components);
  ASSERT_EQ(stage.mil.terms(), static_cast<int>(stage.terms.size()));
  for (const auto& term : stage.terms) EXPECT_GE(term.cv.folds, 2) << term.term;
  // Coordinates by hand: unit(x), the stored projection, minus the offset.
  std::map<std::string, std::vector<std::vector<double>>> coords;  // gene -> per image
  std::vector<double> mean(size_t(stage.mil_components), 0.0), square(mean);
  for (const auto& [gene, images] : data.rows)
    for (const auto& x : images) {
      const auto u = unit(x);
      std::vector<double> z(size_t(stage.mil_components));
      for (int j = 0; j < stage.mil_components; ++j) {
        double p = -stage.projection_offset(j);
        for (int c = 0; c < kDim; ++c) p += double(stage.weights(j, c)) * u[size_t(c)];
        z[size_t(j)] = p;
        mean[size_t(j)] += p / 42;
        square[size_t(j)] += p * p / 42;
      }
      coords[gene].push_back(z);
    }
  double variance = 0;  // every image trained (folds = 3: all genes are training genes)
  for (int j = 0; j < stage.mil_components; ++j) {
    EXPECT_NEAR(mean[size_t(j)], 0.0, 1e-5) << j;
    variance += (square[size_t(j)] - mean[size_t(j)] * mean[size_t(j)]) / stage.mil_components;
  }
  EXPECT_NEAR(variance, 1.0, 1e-4);
  annotate_images(data.images, bundle, *store_feature_source(dir + "/images.h5"), AnnotateParams(),
                  dir + "/out");
  const auto groups = read_tsv(dir + "/out/groups.tsv");
  ASSERT_EQ(groups.size(), 1 + 14 * stage.terms.size());
  std::map<std::pair<std::string, std::string>, std::map<std::string, double>> weights;
  const auto evidence = read_tsv(dir + "/out/group_evidence.tsv");
  for (size_t r = 1; r < evidence.size(); ++r)
    weights[{evidence[r][0], evidence[r][3]}][evidence[r][7]] = std::stod(evidence[r][9]);
  for (size_t r = 1; r < groups.size(); ++r) {
    const std::string gene = groups[r][0], term = groups[r][3];
    EXPECT_EQ(groups[r][7], "bag:attention");
    size_t t = 0;
    while (stage.terms[t].term != term) ++t;
    std::vector<double> logits;
    std::vector<std::vector<double>> attention;
    mil_by_hand(stage.mil, coords.at(gene), logits, attention);
    EXPECT_NEAR(std::stod(groups[r][4]), 1 / (1 + std::exp(-logits[t])), 1e-5) << gene << term;
    const auto& w = weights.at({gene, term});
    ASSERT_EQ(w.size(), 3u);
    double total = 0;
    for (int i = 0; i < 3; ++i) {
      const std::string id = "g" + gene.substr(4) + "_" + std::to_string(i);
      EXPECT_NEAR(w.at(id), attention[t][size_t(i)], 1e-5) << id << " " << term;
      total += w.at(id);
    }
    EXPECT_NEAR(total, 1.0, 1e-9);
  }
  const AnnotationRun run = read_annotation_run(dir + "/out");
  EXPECT_EQ(run.evidence.size(), evidence.size() - 1);
  params.preprocessing = Preprocessing::kStandardise;
  EXPECT_FALSE(params.check().empty());
}
