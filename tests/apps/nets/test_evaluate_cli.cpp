// The annotator end to end on real data, through the CLI: ResNet50 features of bdgp-mini
// (../shared) evaluated with the paper's protocol — metrics checked against the out-of-fold
// predictions by pair counting, labels against the manifest read here, folds grouped by gene —
// then TL+MTL: a net fine-tuned on fold 0's training genes, its store's provenance (the model's
// path, its SHA-256 from sha256sum, the genes it saw) and evaluate with one store per fold,
// including the leakage guard.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "ishannot/common/fs_util.h"
#include "ishannot/features/feature_store.h"
#include "support/nets_support.h"
#include "support/test_util.h"

using namespace ishannot;

namespace {

int run(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// image id (file name without extension) -> (gene, stage range, terms), read with plain string
// splitting (bdgp-mini's manifest has no quoted fields; its lines end in CRLF).
struct ManifestRow {
  std::string gene, stage;
  std::set<std::string> terms;
};
std::map<std::string, ManifestRow> read_manifest_here(const std::string& path) {
  std::ifstream in(path);
  std::map<std::string, ManifestRow> rows;
  std::string line;
  auto next = [&] {
    if (!std::getline(in, line)) return false;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return true;
  };
  next();
  EXPECT_EQ(line, "image,gene,fbgn,stage_range,terms");
  while (next()) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) cells.push_back(cell);
    if (cells.size() == 4) cells.emplace_back();
    ManifestRow r{cells[1], cells[3], {}};
    std::stringstream terms(cells[4]);
    for (std::string t; std::getline(terms, t, ';');) r.terms.insert(t);
    rows[cells[0].substr(0, cells[0].rfind('.'))] = r;
  }
  return rows;
}

}  // namespace

TEST(EvaluateCli, RealBdgpMiniFeaturesAndPerFoldFinetunedStores) {
  ISHANNOT_SKIP_WITHOUT_SHARED();
  ISHANNOT_SKIP_WITHOUT_WEIGHTS();
  const std::string dir = test::temp_dir("evaluate-cli");
  const std::string manifest = test::shared_data_dir() + "/bdgp-mini/images.csv";
  const std::string bin = test::ishannot_binary() + " --quiet ";
  const auto truth = read_manifest_here(manifest);
  ASSERT_EQ(truth.size(), 193u);

  // TL: ImageNet ResNet50 features (small input: the test checks the plumbing, not the AUC).
  const std::string features = " --layers res4f --input-size 64x64 --pool 2x2";
  ASSERT_EQ(run(bin + "extract --data " + manifest + features + " --out " + dir + "/tl.h5"), 0);
  const std::string protocol = " --folds 3 --c-grid 1 --models 3";
  ASSERT_EQ(run(bin + "evaluate --data " + manifest + " --features " + dir + "/tl.h5" + protocol +
                " --out " + dir + "/tl > /dev/null"),
            0);
  const auto predictions = test::read_tsv(dir + "/tl/predictions.tsv");
  ASSERT_GT(predictions.size(), 100u);
  std::map<std::string, std::pair<std::vector<double>, std::vector<int>>> by_task;
  std::map<std::string, std::map<std::string, int>> fold_of_gene;  // stage -> gene -> fold
  for (const auto& p : predictions) {
    const auto& t = truth.at(p.at("id"));
    EXPECT_EQ(p.at("gene"), t.gene);
    EXPECT_EQ(p.at("stage_range"), t.stage);
    EXPECT_EQ(std::stoi(p.at("true_label")), t.terms.count(p.at("term")) ? 1 : 0) << p.at("id");
    const int fold = std::stoi(p.at("fold"));
    auto [it, fresh] = fold_of_gene[t.stage].emplace(t.gene, fold);
    EXPECT_EQ(it->second, fold) << "gene " << t.gene << " in two folds";
    auto& task = by_task[p.at("layer") + "|" + p.at("stage_range") + "|" + p.at("term") + "|" +
                         p.at("fold")];
    task.first.push_back(std::stod(p.at("score")));
    task.second.push_back(std::stoi(p.at("true_label")));
  }
  int aucs = 0, aucs_13_16 = 0;
  std::map<std::string, std::string> tl_values;  // 13-16 metrics of folds 1, 2
  for (const auto& m : test::read_tsv(dir + "/tl/metrics.tsv")) {
    const std::string key =
        m.at("layer") + "|" + m.at("stage_range") + "|" + m.at("term") + "|" + m.at("fold");
    if (m.at("stage_range") == "13-16" && m.at("fold") != "0")
      tl_values[key + "|" + m.at("metric")] = m.at("value");
    if (m.at("metric") != "auc") continue;
    ASSERT_TRUE(by_task.count(key)) << key;
    EXPECT_NEAR(std::stod(m.at("value")), test::naive_auc(by_task[key].first, by_task[key].second),
                1e-6)
        << key;
    ++aucs;
    aucs_13_16 += m.at("stage_range") == "13-16";
  }
  EXPECT_GT(aucs, 10);
  EXPECT_GT(aucs_13_16, 3);

  // TL+MTL for fold 0 of 13-16: fine-tune on its training genes, extract the same layer.
  ASSERT_EQ(run(bin + "finetune --data " + manifest +
                " --stage 13-16 --fold 0/3 --input-size 64x64 --freeze-through res4f --epochs 1 "
                "--val-fraction 0 --batch 8 --out " +
                dir + "/m0.pt"),
            0);
  ASSERT_EQ(run(bin + "extract --data " + manifest + " --model " + dir + "/m0.pt" + features +
                " --out " + dir + "/f0.h5"),
            0);
  ASSERT_EQ(run("sha256sum " + dir + "/m0.pt > " + dir + "/sha.txt"), 0);
  const std::string sha = read_text_file(dir + "/sha.txt").substr(0, 64);
  std::map<std::string, std::string> attributes;
  {
    FeatureStoreReader f0(dir + "/f0.h5");
    attributes = f0.attributes();
  }
  EXPECT_EQ(attributes.at("weights_path"), dir + "/m0.pt");
  EXPECT_EQ(attributes.at("weights_sha256"), sha);
  EXPECT_EQ(attributes.at("finetune_stage_range"), "13-16");
  const auto sidecar = nlohmann::json::parse(read_text_file(dir + "/m0.pt.json"));
  std::set<std::string> sidecar_genes, store_genes;
  for (const char* key : {"train_genes", "val_genes"})
    for (const auto& g : sidecar.at(key)) sidecar_genes.insert(g.get<std::string>());
  std::stringstream lines(attributes.at("finetune_genes"));
  for (std::string g; std::getline(lines, g);) store_genes.insert(g);
  EXPECT_EQ(store_genes, sidecar_genes);
  // Exactly the genes outside evaluate's test fold 0 (same seed, same folds).
  std::set<std::string> outside_fold0;
  for (const auto& [gene, fold] : fold_of_gene["13-16"])
    if (fold != 0) outside_fold0.insert(gene);
  EXPECT_EQ(store_genes, outside_fold0);

  // Per-fold stores: fold 0 reads the fine-tuned store, folds 1 and 2 the TL store.
  std::filesystem::copy_file(dir + "/tl.h5", dir + "/f1.h5");
  std::filesystem::copy_file(dir + "/tl.h5", dir + "/f2.h5");
  ASSERT_EQ(
      run(bin + "evaluate --data " + manifest + " --fold-features " + dir + "/f{fold}.h5" +
          " --stages 13-16 --method TL+MTL" + protocol + " --out " + dir + "/mtl > /dev/null"),
      0);
  int same = 0, fold0 = 0;
  for (const auto& m : test::read_tsv(dir + "/mtl/metrics.tsv")) {
    EXPECT_EQ(m.at("method"), "TL+MTL");
    const std::string key = m.at("layer") + "|" + m.at("stage_range") + "|" + m.at("term") + "|" +
                            m.at("fold") + "|" + m.at("metric");
    if (m.at("fold") == "0") {
      ++fold0;
      continue;
    }
    ASSERT_TRUE(tl_values.count(key)) << key;  // identical folds and tasks
    EXPECT_EQ(m.at("value"), tl_values[key]) << key;
    ++same;
  }
  EXPECT_GT(same, 5);
  EXPECT_GT(fold0, 2);
  const auto run_json = nlohmann::json::parse(read_text_file(dir + "/mtl/run.json"));
  EXPECT_NE(run_json.dump().find("f{fold}.h5"), std::string::npos);

  // The fine-tuned store as fold 1's store: its net saw fold 1's test genes -> refused.
  std::filesystem::copy_file(dir + "/f0.h5", dir + "/g0.h5");
  std::filesystem::copy_file(dir + "/f0.h5", dir + "/g1.h5");
  std::filesystem::copy_file(dir + "/tl.h5", dir + "/g2.h5");
  EXPECT_EQ(run(bin + "evaluate --data " + manifest + " --fold-features " + dir + "/g{fold}.h5" +
                " --stages 13-16" + protocol + " --out " + dir + "/leak 2> " + dir + "/err.txt"),
            1);
  const std::string err = read_text_file(dir + "/err.txt");
  EXPECT_NE(err.find("g1.h5"), std::string::npos) << err;
  EXPECT_NE(err.find("fine-tuned on gene"), std::string::npos) << err;
  EXPECT_FALSE(std::filesystem::exists(dir + "/leak/metrics.tsv"));
}
