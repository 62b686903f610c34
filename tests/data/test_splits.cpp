// Grouped (by gene) stratified splits: no leakage, coverage of rare terms, reproducibility.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "detail/rng.h"
#include "ishannot/common/error.h"
#include "ishannot/data/dataset.h"
#include "ishannot/data/splits.h"
#include "ishannot/data/terms.h"
#include "support/test_paths.h"

using namespace ishannot;

namespace {

// A random problem: `genes` genes of 1..6 items; term t is carried by a gene with probability
// rate[t] (group-level labels, like BDGP).
struct Problem {
  std::vector<std::string> genes;
  std::vector<uint8_t> labels;
  int terms = 0;
};

Problem make_problem(int genes, const std::vector<double>& rate, uint64_t seed) {
  detail::Rng rng = detail::Rng::from_derived(seed);
  Problem p;
  p.terms = static_cast<int>(rate.size());
  for (int g = 0; g < genes; ++g) {
    std::vector<uint8_t> row(rate.size());
    for (size_t t = 0; t < rate.size(); ++t) row[t] = rng.bernoulli(rate[t]) ? 1 : 0;
    const int n = 1 + static_cast<int>(rng.below(6));
    for (int i = 0; i < n; ++i) {
      p.genes.push_back("gene" + std::to_string(g));
      p.labels.insert(p.labels.end(), row.begin(), row.end());
    }
  }
  return p;
}

void expect_no_gene_on_two_sides(const std::vector<std::string>& genes,
                                 const std::vector<int>& fold) {
  std::map<std::string, int> fold_of;
  for (size_t i = 0; i < genes.size(); ++i) {
    auto [it, fresh] = fold_of.emplace(genes[i], fold[i]);
    EXPECT_EQ(it->second, fold[i]) << "gene " << genes[i] << " split across folds";
  }
}

}  // namespace

TEST(Splits, GroupedKFoldHasNoLeakageAndCoversRareTerms) {
  // Term 3 is carried by about 5 genes of 60: exactly the case where a random split leaves folds
  // without positives.
  const Problem p = make_problem(60, {0.4, 0.2, 0.1, 0.08}, 7);
  GroupedSplitParams params;
  params.folds = 5;
  const auto fold = grouped_kfold(p.genes, p.labels, p.terms, params);
  ASSERT_EQ(fold.size(), p.genes.size());
  expect_no_gene_on_two_sides(p.genes, fold);
  // Per term: genes carrying it (independent count), and folds with a positive.
  for (int t = 0; t < p.terms; ++t) {
    std::set<std::string> carriers;
    std::set<int> folds_with_positive;
    for (size_t i = 0; i < p.genes.size(); ++i) {
      if (p.labels[i * p.terms + t]) {
        carriers.insert(p.genes[i]);
        folds_with_positive.insert(fold[i]);
      }
    }
    EXPECT_EQ(folds_with_positive.size(), std::min<size_t>(carriers.size(), 5)) << "term " << t;
  }
  // Fold sizes stay balanced: every fold holds between half and twice its share.
  std::vector<int> size(5, 0);
  for (int f : fold) ++size[f];
  for (int s : size) {
    EXPECT_GT(s, static_cast<int>(p.genes.size()) / 10);
    EXPECT_LT(s, static_cast<int>(p.genes.size()) * 2 / 5);
  }
}

TEST(Splits, SeededAndReproducible) {
  const Problem p = make_problem(40, {0.3, 0.15}, 3);
  GroupedSplitParams a;
  a.folds = 4;
  EXPECT_EQ(grouped_kfold(p.genes, p.labels, p.terms, a),
            grouped_kfold(p.genes, p.labels, p.terms, a));
  GroupedSplitParams b = a;
  b.seed = 99;
  EXPECT_NE(grouped_kfold(p.genes, p.labels, p.terms, a),
            grouped_kfold(p.genes, p.labels, p.terms, b));
  // Without labels: plain grouped k-fold, every fold non-empty.
  const auto plain = grouped_kfold(p.genes, {}, 0, a);
  expect_no_gene_on_two_sides(p.genes, plain);
  EXPECT_EQ(std::set<int>(plain.begin(), plain.end()).size(), 4u);
}

TEST(Splits, BadInput) {
  GroupedSplitParams params;
  params.folds = 3;
  EXPECT_THROW(grouped_kfold({"a", "a", "b"}, {}, 0, params), Error);  // 2 genes < 3 folds
  params.folds = 1;
  EXPECT_FALSE(params.check().empty());
  params.folds = 2;
  EXPECT_THROW(grouped_kfold({"a", "b"}, {1, 0, 1}, 2, params), Error);  // label size
  // Exactly as many genes as folds: one gene per fold.
  const auto f = grouped_kfold({"a", "b", "b"}, {}, 0, params);
  EXPECT_NE(f[0], f[1]);
  EXPECT_EQ(f[1], f[2]);
}

TEST(Splits, TrainTestAndInnerFoldsStayOnTheirSide) {
  const Problem p = make_problem(80, {0.3, 0.1}, 11);
  GroupedSplitParams outer;
  outer.folds = 4;
  const auto outer_fold = grouped_kfold(p.genes, p.labels, p.terms, outer);
  std::vector<uint8_t> is_test(outer_fold.size());
  for (size_t i = 0; i < is_test.size(); ++i) is_test[i] = outer_fold[i] == 0;
  std::set<std::string> train_genes, test_genes;
  std::vector<int> train;
  for (size_t i = 0; i < p.genes.size(); ++i) {
    (is_test[i] ? test_genes : train_genes).insert(p.genes[i]);
    if (!is_test[i]) train.push_back(static_cast<int>(i));
  }
  for (const auto& g : test_genes) EXPECT_EQ(train_genes.count(g), 0u) << g;
  const double share = static_cast<double>(p.genes.size() - train.size()) / p.genes.size();
  EXPECT_GT(share, 0.15);
  EXPECT_LT(share, 0.35);
  GroupedSplitParams inner;
  inner.folds = 3;
  const auto inner_fold = grouped_inner_kfold(p.genes, p.labels, p.terms, train, inner);
  ASSERT_EQ(inner_fold.size(), train.size());
  std::vector<std::string> train_gene_names;
  for (int i : train) train_gene_names.push_back(p.genes[i]);
  expect_no_gene_on_two_sides(train_gene_names, inner_fold);
  EXPECT_EQ(std::set<int>(inner_fold.begin(), inner_fold.end()).size(), 3u);
}

TEST(Splits, BdgpStage13To16EveryFoldHasEveryTerm) {
  ISHANNOT_SKIP_WITHOUT_SHARED();
  const Dataset ds = read_dataset(test::shared_data_dir() + "/bdgp-meta");
  const StageProblem sp = select_terms(ds, "13-16", TermSelectionParams{});
  std::vector<std::string> genes;
  for (int i : sp.image_indices) genes.push_back(ds.images[i].gene);
  const auto fold = grouped_kfold(genes, sp.labels, static_cast<int>(sp.terms.size()), {});
  expect_no_gene_on_two_sides(genes, fold);
  for (size_t t = 0; t < sp.terms.size(); ++t) {
    std::vector<int> positives(5, 0);
    for (int r = 0; r < sp.rows(); ++r) positives[fold[r]] += sp.label(r, static_cast<int>(t));
    for (int f = 0; f < 5; ++f) {
      // Each fold holds 10-30% of the term's positives (share 20%).
      EXPECT_GT(positives[f], sp.positives[t] / 10) << sp.terms[t] << " fold " << f;
      EXPECT_LT(positives[f], sp.positives[t] * 3 / 10) << sp.terms[t] << " fold " << f;
    }
  }
}
