#include <gtest/gtest.h>
#include <hdf5.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/data/dataset.h"
#include "ishannot/eval/evaluation.h"
#include "support/test_paths.h"
#include "support/test_util.h"

using namespace ishannot;

namespace {

// Features of an image: its terms' patterns plus noise (layer "good"), or noise only ("noise").
// `signal` scales the patterns (0: "good" is noise too); `attributes` go to the store's root.
void write_synthetic_store(const std::string& path, const Dataset& ds,
                           const std::vector<std::string>& extra_ids, unsigned seed, int dim = 48,
                           float signal = 1.2f,
                           std::map<std::string, std::string> attributes = {}) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::map<std::string, std::vector<float>> pattern;
  attributes["backbone"] = "synthetic";
  FeatureStoreWriter w(path, {{"good", dim, ""}, {"noise", 16, ""}}, FeatureDtype::kFloat16,
                       attributes);
  std::vector<std::string> ids;
  std::vector<float> good, noise;
  auto add = [&](const std::string& id, const std::vector<std::string>& terms) {
    ids.push_back(id);
    std::vector<float> g(static_cast<size_t>(dim));
    for (auto& v : g) v = normal(rng);
    for (const auto& t : terms) {
      auto& p = pattern[t];
      if (p.empty()) {
        p.resize(static_cast<size_t>(dim));
        for (auto& v : p) v = signal * normal(rng);
      }
      for (int j = 0; j < dim; ++j) g[static_cast<size_t>(j)] += p[static_cast<size_t>(j)];
    }
    good.insert(good.end(), g.begin(), g.end());
    for (int j = 0; j < 16; ++j) noise.push_back(normal(rng));
  };
  for (const auto& image : ds.images) add(image.id, image.terms);
  for (const auto& id : extra_ids) add(id, {});
  w.append(ids, {{"good", good.data()}, {"noise", noise.data()}});
  w.close();
}

// 24 genes at 13-16 with 3 images each; terms per gene drawn from 5 terms; "lonely" only in g0.
Dataset synthetic_dataset() {
  Dataset ds;
  ds.source = "synthetic";
  std::mt19937 rng(11);
  const std::vector<std::string> terms = {"t_a", "t_b", "t_c", "t_d", "t_e"};
  for (int g = 0; g < 24; ++g) {
    std::vector<std::string> gene_terms;
    for (size_t t = 0; t < terms.size(); ++t)
      if (rng() % (t + 2) == 0) gene_terms.push_back(terms[t]);
    if (g == 0) gene_terms.push_back("z_lonely");
    std::sort(gene_terms.begin(), gene_terms.end());
    for (int i = 0; i < 3; ++i) {
      ImageRecord r;
      r.id = "g" + std::to_string(g) + "_" + std::to_string(i);
      r.gene = "gene" + std::to_string(g);
      r.stage_range = "13-16";
      r.terms = gene_terms;
      ds.images.push_back(r);
    }
  }
  return ds;
}

EvaluationParams small_params() {
  EvaluationParams p;
  p.folds = 3;
  p.fit.inner_folds = 2;
  p.fit.c_grid = {0.01, 1};
  p.fit.ensemble.models = 3;
  p.fit.inner_models = 1;
  p.terms.top_k = 6;
  return p;
}

bool has_skip(const EvaluationResult& r, const std::string& needle) {
  for (const auto& s : r.skipped)
    if (s.reason.find(needle) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST(Evaluation, SyntheticProtocolMetricsAndSkips) {
  const auto dir = test::temp_dir("eval");
  Dataset ds = synthetic_dataset();
  Dataset without_last = ds;
  without_last.images.pop_back();  // this image gets no features
  const std::string path = dir + "/f.h5";
  write_synthetic_store(path, without_last, {"stray_id"}, 3);
  test::write_nan(path, "/features/good", 5, 0);  // another tool wrote a NaN into row 5
  FeatureStoreReader store(path);
  const auto params = small_params();
  const auto r = run_evaluation(ds, store, params);

  EXPECT_EQ(r.layers, (std::vector<std::string>{"good", "noise", "good+noise"}));
  EXPECT_EQ(r.stage_ranges, (std::vector<std::string>{"13-16"}));
  EXPECT_TRUE(has_skip(r, "1 image without features")) << "missing features";
  EXPECT_TRUE(has_skip(r, "with ids the dataset lacks"));
  EXPECT_TRUE(has_skip(r, "NaN/Inf"));
  EXPECT_TRUE(has_skip(r, "single gene (gene0)"));

  // Every metric row is reproduced from the out-of-fold predictions by independent code.
  std::map<std::tuple<std::string, std::string, int>,
           std::pair<std::vector<double>, std::vector<int>>>
      by_task;
  std::map<std::tuple<std::string, std::string, int>, std::pair<int, int>> correct;
  std::map<std::string, std::set<int>> folds_of_gene;
  std::map<std::tuple<std::string, std::string, std::string>, int> seen;
  for (const auto& p : r.predictions) {
    auto key = std::make_tuple(p.layer, p.term, p.fold);
    by_task[key].first.push_back(p.score);
    by_task[key].second.push_back(p.label);
    correct[key].first += p.vote == p.label;
    correct[key].second += 1;
    folds_of_gene[p.gene].insert(p.fold);
    ++seen[{p.layer, p.term, p.id}];
    if (p.layer != "noise") {
      EXPECT_NE(p.id, ds.images[5].id) << "NaN image kept";
    }
  }
  for (const auto& [gene, folds] : folds_of_gene) EXPECT_EQ(folds.size(), 1u) << gene;
  for (const auto& [key, count] : seen) EXPECT_EQ(count, 1);  // out-of-fold: once each
  int checked = 0;
  for (const auto& m : r.metrics) {
    auto key = std::make_tuple(m.layer, m.term, m.fold);
    if (m.metric == "auc") {
      EXPECT_NEAR(m.value, test::naive_auc(by_task[key].first, by_task[key].second), 1e-12);
      ++checked;
    }
    if (m.metric == "accuracy") {
      EXPECT_NEAR(m.value, static_cast<double>(correct[key].first) / correct[key].second, 1e-12);
    }
  }
  EXPECT_GT(checked, 10);
  // The informative layer separates, the noise layer does not.
  double good_auc = 0, noise_auc = 0;
  for (const auto& s : r.summary) {
    if (s.metric != "auc") continue;
    if (s.layer == "good") good_auc = s.over_terms.mean;
    if (s.layer == "noise") noise_auc = s.over_terms.mean;
  }
  EXPECT_GT(good_auc, 0.85);
  EXPECT_LT(noise_auc, 0.7);

  Provenance provenance;
  provenance.command_line = "test";
  write_evaluation_outputs(dir + "/out", r, params, provenance);
  std::ifstream metrics(dir + "/out/metrics.tsv");
  std::string header;
  std::getline(metrics, header);
  EXPECT_EQ(header,
            "method\tlayer\tstage_range\tstage_order\tterm\tfold\tmetric\tvalue\tunit\tbag_pool");
  const auto run = nlohmann::json::parse(read_text_file(dir + "/out/run.json"));
  EXPECT_EQ(run["seed"], 1234);
  EXPECT_EQ(run["config"]["models"], 3);
  EXPECT_NE(read_text_file(dir + "/out/summary.md").find("| auc | TL | good |"), std::string::npos);
  const auto roc = read_text_file(dir + "/out/roc.tsv");
  EXPECT_EQ(roc.rfind("method\tlayer\tstage_range\tstage_order\tterm\tthreshold\tfpr\ttpr\n", 0),
            0u);
  EXPECT_NE(roc.find("\tinf\t0\t0\n"), std::string::npos);
}

TEST(Evaluation, SameSeedSameResultsAndUnknownLayerIsAnError) {
  const auto dir = test::temp_dir("eval-seed");
  const Dataset ds = synthetic_dataset();
  write_synthetic_store(dir + "/f.h5", ds, {}, 4);
  FeatureStoreReader store(dir + "/f.h5");
  auto params = small_params();
  params.layers = {"good"};
  const auto a = run_evaluation(ds, store, params);
  const auto b = run_evaluation(ds, store, params);
  ASSERT_EQ(a.metrics.size(), b.metrics.size());
  for (size_t i = 0; i < a.metrics.size(); ++i) EXPECT_EQ(a.metrics[i].value, b.metrics[i].value);
  params.layers = {"nope"};
  EXPECT_THROW(run_evaluation(ds, store, params), Error);
  Dataset other = ds;
  for (auto& im : other.images) im.id = "x" + im.id;
  params.layers = {};
  EXPECT_THROW(run_evaluation(other, store, params), Error);
}

TEST(Evaluation, SummaryIsMeanAndStdOverTermsAndFolds) {
  // Term A: folds 0.6, 0.8 -> mean 0.7; term B: folds 0.9, 0.9 -> 0.9.
  // Over terms: mean 0.8, std sqrt(((0.1)^2 + (0.1)^2) / 1) = 0.1414...
  // Over folds: fold 0 (0.6 + 0.9) / 2 = 0.75, fold 1 0.85 -> mean 0.8, std 0.0707...
  std::vector<MetricRow> rows = {{"TL", "L", "4-6", "A", 0, "auc", 0.6},
                                 {"TL", "L", "4-6", "A", 1, "auc", 0.8},
                                 {"TL", "L", "4-6", "B", 0, "auc", 0.9},
                                 {"TL", "L", "4-6", "B", 1, "auc", 0.9},
                                 {"TL", "L", "4-6", "B", 1, "C", 10}};
  const auto s = summarise(rows);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_NEAR(s[0].over_terms.mean, 0.8, 1e-12);
  EXPECT_NEAR(s[0].over_terms.std, std::sqrt(0.02), 1e-12);
  EXPECT_NEAR(s[0].over_folds.mean, 0.8, 1e-12);
  EXPECT_NEAR(s[0].over_folds.std, std::sqrt(0.005), 1e-12);
}

// bdgp-mini's real manifest with a synthetic feature store for its ids, through the CLI.
TEST(Evaluation, CliOnBdgpMiniIds) {
  ISHANNOT_SKIP_WITHOUT_SHARED();
  std::string binary = std::getenv("ISHANNOT_BINARY") ? std::getenv("ISHANNOT_BINARY") : "";
  if (binary.empty() && std::filesystem::exists(test::source_dir() + "/build/ishannot"))
    binary = test::source_dir() + "/build/ishannot";
  if (binary.empty()) GTEST_SKIP() << "ISHANNOT_BINARY not set and no build/ishannot";
  const auto dir = test::temp_dir("eval-cli");
  const std::string manifest = test::shared_data_dir() + "/bdgp-mini/images.csv";
  const Dataset ds = read_manifest(manifest, false);
  write_synthetic_store(dir + "/f.h5", ds, {}, 5);
  const std::string cmd = binary + " --quiet evaluate --data " + manifest + " --features " + dir +
                          "/f.h5 --layers good --folds 3 --inner-folds 2 "
                          "--models 3 --inner-models 1 --c-grid 0.1,1 --out " +
                          dir + "/out > " + dir + "/stdout.txt 2> " + dir + "/stderr.txt";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << read_text_file(dir + "/stderr.txt");
  for (const char* f :
       {"metrics.tsv", "summary.md", "summary.tsv", "predictions.tsv", "skipped.tsv", "run.json"})
    EXPECT_TRUE(std::filesystem::exists(dir + "/out/" + f)) << f;
  const auto summary = read_text_file(dir + "/stdout.txt");
  EXPECT_NE(summary.find("| auc | TL | good |"), std::string::npos) << summary;
  // 8 genes: single-gene terms exist and are reported, not crashed on.
  EXPECT_NE(read_text_file(dir + "/out/skipped.tsv").find("single gene"), std::string::npos);
  // A bad store path is a one-line error naming the file, exit code 1.
  const std::string bad = binary + " --quiet evaluate --data " + manifest + " --features " + dir +
                          "/missing.h5 --out " + dir + "/o2 2> " + dir + "/err2.txt";
  EXPECT_EQ(WEXITSTATUS(std::system(bad.c_str())), 1);
  EXPECT_NE(read_text_file(dir + "/err2.txt").find("missing.h5"), std::string::npos);
}

// One store per fold (TL+MTL): fold f's metrics are exactly those of a one-store run on fold f's
// store (same images, same folds, same seeds), and a store that only fold 1 reads — the one with
// signal — gives fold 1 near-perfect AUCs while the noise stores of folds 0 and 2 stay near chance.
TEST(Evaluation, PerFoldStoresScoreEachFoldOnItsOwnStore) {
  const auto dir = test::temp_dir("eval-folds");
  const Dataset ds = synthetic_dataset();
  std::vector<std::unique_ptr<FeatureStoreReader>> stores;
  for (int f = 0; f < 3; ++f) {
    const std::string path = dir + "/f" + std::to_string(f) + ".h5";
    write_synthetic_store(path, ds, {}, 20u + static_cast<unsigned>(f), 48, f == 1 ? 6.0f : 0.0f);
    stores.push_back(std::make_unique<FeatureStoreReader>(path));
  }
  auto params = small_params();
  params.layers = {"good"};
  params.fit.c_grid = {1};
  const auto per_fold = run_evaluation(
      ds,
      [&](const std::string& stage, int fold) -> const FeatureStoreReader& {
        EXPECT_EQ(stage, "13-16");
        return *stores.at(static_cast<size_t>(fold));
      },
      params);
  std::map<std::tuple<int, std::string, std::string>, double> value;  // fold, term, metric
  for (const auto& m : per_fold.metrics) value[{m.fold, m.term, m.metric}] = m.value;
  ASSERT_FALSE(value.empty());
  for (int f = 0; f < 3; ++f) {
    const auto single = run_evaluation(ds, *stores[static_cast<size_t>(f)], params);
    int compared = 0;
    for (const auto& m : single.metrics) {
      if (m.fold != f) continue;
      const auto key = std::make_tuple(f, m.term, m.metric);
      ASSERT_TRUE(value.count(key)) << m.term << " " << m.metric;
      EXPECT_EQ(value[key], m.value) << "fold " << f << " " << m.term;
      ++compared;
    }
    EXPECT_GT(compared, 10);
  }
  std::map<int, std::vector<double>> auc;
  for (const auto& m : per_fold.metrics)
    if (m.metric == "auc") auc[m.fold].push_back(m.value);
  ASSERT_EQ(auc.size(), 3u);
  auto mean_auc = [&](int f) {
    double mean = 0;
    for (double a : auc[f]) mean += a / static_cast<double>(auc[f].size());
    return mean;
  };
  EXPECT_GT(mean_auc(1), 0.95) << "fold 1 reads the store with signal";
  for (int f : {0, 2})
    EXPECT_LT(mean_auc(f), 0.8) << "fold " << f << " must not see the signal of fold 1's store";
}

// A store whose net was fine-tuned on a test gene of the fold that reads it is refused, naming
// the store, the fold and the gene; an image missing from one fold's store is dropped everywhere.
TEST(Evaluation, PerFoldStoresRefuseLeakedTestGenesAndDropPartialImages) {
  const auto dir = test::temp_dir("eval-leak");
  const Dataset ds = synthetic_dataset();
  auto params = small_params();
  params.layers = {"good"};
  params.fit.c_grid = {1};
  // The folds evaluate uses, read from a plain run's predictions: the genes of each test fold.
  write_synthetic_store(dir + "/plain.h5", ds, {}, 5);
  FeatureStoreReader plain(dir + "/plain.h5");
  std::map<int, std::set<std::string>> test_genes;
  for (const auto& p : run_evaluation(ds, plain, params).predictions)
    test_genes[p.fold].insert(p.gene);
  ASSERT_EQ(test_genes.size(), 3u);
  // Fold 0's store was fine-tuned on the genes outside fold 0 plus one gene of fold 0.
  std::string seen;
  for (int f : {1, 2})
    for (const auto& g : test_genes[f]) seen += g + "\n";
  const std::string leaked = *test_genes[0].rbegin();
  write_synthetic_store(dir + "/leak.h5", ds, {}, 6, 48, 1.2f,
                        {{"finetune_genes", seen + leaked + "\n"}});
  FeatureStoreReader leak(dir + "/leak.h5");
  auto by_fold = [&](const FeatureStoreReader& fold0) {
    return [&](const std::string&, int fold) -> const FeatureStoreReader& {
      return fold == 0 ? fold0 : plain;
    };
  };
  const std::string message = test::error_text([&] { run_evaluation(ds, by_fold(leak), params); });
  EXPECT_NE(message.find("leak.h5"), std::string::npos) << message;
  EXPECT_NE(message.find("fine-tuned on gene " + leaked), std::string::npos) << message;
  EXPECT_NE(message.find("test gene of fold 0"), std::string::npos) << message;
  // The same store is refused as the one store of every fold (its net saw fold 1's genes).
  EXPECT_THROW(run_evaluation(ds, leak, params), Error);
  // Without the leaked gene it is accepted as fold 0's store.
  write_synthetic_store(dir + "/clean.h5", ds, {}, 6, 48, 1.2f, {{"finetune_genes", seen}});
  FeatureStoreReader clean(dir + "/clean.h5");
  EXPECT_NO_THROW(run_evaluation(ds, by_fold(clean), params));

  // Fold 2's store lacks one image: it is dropped for every fold and reported with the store.
  Dataset fewer = ds;
  const std::string dropped = fewer.images[4].id;
  fewer.images.erase(fewer.images.begin() + 4);
  write_synthetic_store(dir + "/partial.h5", fewer, {}, 7);
  FeatureStoreReader partial(dir + "/partial.h5");
  const auto r = run_evaluation(
      ds,
      [&](const std::string&, int fold) -> const FeatureStoreReader& {
        return fold == 2 ? partial : plain;
      },
      params);
  EXPECT_TRUE(has_skip(r, "1 image without features in " + dir + "/partial.h5"));
  for (const auto& p : r.predictions) EXPECT_NE(p.id, dropped);
}

// evaluate --level both: group predictions and group metrics, recomputed here from the image
// predictions by the rules' definitions (groups.h) and pair-counting AUC.
TEST(Evaluation, GroupLevelAggregatesImagePredictionsPerGeneAndStage) {
  const auto dir = test::temp_dir("eval-groups");
  const Dataset ds = synthetic_dataset();
  write_synthetic_store(dir + "/f.h5", ds, {}, 12);
  FeatureStoreReader store(dir + "/f.h5");
  for (GroupRule rule : {GroupRule::kMean, GroupRule::kMax, GroupRule::kVotes}) {
    SCOPED_TRACE(group_rule_name(rule));
    auto params = small_params();
    params.layers = {"good"};
    params.level = EvaluationLevel::kBoth;
    params.group_rule = rule;
    const auto r = run_evaluation(ds, store, params);
    // (term, fold, gene) -> image scores, votes, labels
    struct Images {
      std::vector<double> score;
      std::vector<int> votes, vote, label;
    };
    std::map<std::tuple<std::string, int, std::string>, Images> by_group;
    for (const auto& p : r.predictions) {
      auto& g = by_group[{p.term, p.fold, p.gene}];
      g.score.push_back(p.score);
      g.votes.push_back(p.votes);
      g.vote.push_back(p.vote);
      g.label.push_back(p.label);
      EXPECT_EQ(p.members, 3);
    }
    ASSERT_EQ(r.group_predictions.size(), by_group.size());
    std::map<std::pair<std::string, int>, std::pair<std::vector<double>, std::vector<int>>> task;
    for (const auto& g : r.group_predictions) {
      const auto& im = by_group.at({g.term, g.fold, g.gene});
      double expected = 0;
      int vote = 0;
      if (rule == GroupRule::kMean) {
        for (double s : im.score) expected += s / static_cast<double>(im.score.size());
        vote = expected > 0.5;
      } else if (rule == GroupRule::kMax) {
        expected = *std::max_element(im.score.begin(), im.score.end());
        vote = *std::max_element(im.vote.begin(), im.vote.end());
      } else {
        int votes = 0;
        for (int v : im.votes) votes += v;
        expected = votes / (3.0 * static_cast<double>(im.votes.size()));
        vote = expected > 0.5;
      }
      EXPECT_NEAR(g.score, expected, 1e-12);
      EXPECT_EQ(g.vote, vote);
      EXPECT_EQ(g.label, im.label.front());
      EXPECT_EQ(g.images, static_cast<int>(im.score.size()));
      task[{g.term, g.fold}].first.push_back(g.score);
      task[{g.term, g.fold}].second.push_back(g.label);
    }
    int aucs = 0;
    for (const auto& m : r.metrics) {
      if (m.metric != "group_auc") continue;
      const auto& t = task.at({m.term, m.fold});
      EXPECT_NEAR(m.value, test::naive_auc(t.first, t.second), 1e-12);
      ++aucs;
    }
    EXPECT_GT(aucs, 5);
    bool image_auc = false;
    for (const auto& m : r.metrics) image_auc = image_auc || m.metric == "auc";
    EXPECT_TRUE(image_auc);
    EXPECT_NE(summary_table(r).find("| group auc | TL | good |"), std::string::npos);
  }
  auto params = small_params();
  params.layers = {"good"};
  params.level = EvaluationLevel::kGroup;
  const auto r = run_evaluation(ds, store, params);
  for (const auto& m : r.metrics) EXPECT_NE(m.metric, "auc");
  write_evaluation_outputs(dir + "/out", r, params, {});
  EXPECT_EQ(test::read_tsv(dir + "/out/group_predictions.tsv").size(), r.group_predictions.size());
}
