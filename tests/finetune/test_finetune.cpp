// Fine-tuning runs on a tiny backbone and tiny images:
//  - a run stopped after epoch 1 and resumed ends with the same weights as an uninterrupted run;
//  - the cached-trunk fast path trains the same weights as recomputing the trunk every batch;
//  - an outer fold's test genes never reach fine-tuning (their image files are not even
//    decodable, and the genes used are checked against an independently computed fold);
//  - the saved model reads back into a different-seeded architecture with identical weights.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/data/folds.h"
#include "ishannot/data/splits.h"
#include "ishannot/nets/finetune.h"
#include "support/test_paths.h"
#include "support/tiny_backbone.h"

using namespace ishannot;

namespace {

FinetuneParams tiny_params() {
  FinetuneParams p;
  p.head.cut = "conv3";
  p.head.freeze_through = "pool1";
  p.head.hidden = 6;
  p.head.dropout = 0.3;
  p.input_size = "32x32";
  p.batch = 5;
  p.epochs = 3;
  p.patience = 10;
  p.val_fraction = 0.34;
  p.lr = 0.05;
  p.pos_weight = true;
  p.seed = 77;
  return p;
}

StageProblem problem_of(const Dataset& d) {
  TermSelectionParams tp;
  tp.top_k = 3;
  tp.view = "";
  return select_terms(d, "4-6", tp);
}

std::vector<int> all_rows(const StageProblem& p) {
  std::vector<int> rows;
  for (int r = 0; r < p.rows(); ++r) rows.push_back(r);
  return rows;
}

std::vector<torch::Tensor> model_parameters(const std::string& path) {
  auto model = load_finetuned_model(path, std::make_shared<test::TinyBackbone>(99));
  std::vector<torch::Tensor> out;
  for (auto& p : model.net->parameters()) out.push_back(p.detach().clone());
  return out;
}

void expect_same_parameters(const std::vector<torch::Tensor>& a,
                            const std::vector<torch::Tensor>& b, double tolerance) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    const double diff = (a[i] - b[i]).abs().max().item<double>();
    EXPECT_LE(diff, tolerance) << "parameter " << i;
  }
}

}  // namespace

TEST(Finetune, ResumedRunEqualsUninterruptedRun) {
  const std::string dir = test::temp_dir("ft-resume");
  const Dataset d = test::tiny_dataset(dir, 6, 4, 1);
  const StageProblem problem = problem_of(d);
  for (bool cache : {false, true}) {
    FinetuneParams p = tiny_params();
    p.cache_trunk = cache;
    p.cache_variants = 2;
    const std::string tag = cache ? "cached" : "plain";
    const std::string whole = dir + "/whole-" + tag + ".pt", parts = dir + "/parts-" + tag + ".pt";
    auto r1 =
        finetune(d, problem, all_rows(problem), std::make_shared<test::TinyBackbone>(7), p, whole);
    ASSERT_TRUE(r1.finished);
    ASSERT_EQ(r1.curve.size(), 3u);
    EXPECT_FALSE(std::filesystem::exists(whole + ".checkpoint"));

    p.stop_after = 1;
    auto r2 =
        finetune(d, problem, all_rows(problem), std::make_shared<test::TinyBackbone>(7), p, parts);
    EXPECT_FALSE(r2.finished);
    EXPECT_EQ(r2.curve.size(), 1u);
    EXPECT_FALSE(std::filesystem::exists(parts));
    ASSERT_TRUE(std::filesystem::exists(parts + ".checkpoint"));
    p.stop_after = 0;
    p.resume = true;
    // A fresh process would start from the base weights again: so does this.
    auto r3 =
        finetune(d, problem, all_rows(problem), std::make_shared<test::TinyBackbone>(7), p, parts);
    ASSERT_TRUE(r3.finished);
    ASSERT_EQ(r3.curve.size(), 3u);
    for (size_t e = 0; e < 3; ++e) {
      EXPECT_EQ(r3.curve[e].train_loss, r1.curve[e].train_loss) << "epoch " << e + 1;
      EXPECT_EQ(r3.curve[e].val_loss, r1.curve[e].val_loss) << "epoch " << e + 1;
    }
    expect_same_parameters(model_parameters(whole), model_parameters(parts), 1e-6);
    // Training moved the weights (the comparison above is not between two untouched nets).
    auto base = std::make_shared<test::TinyBackbone>(7);
    auto tuned = model_parameters(whole);
    const auto conv3 = base->named_parameters()["conv3.weight"];
    auto model = load_finetuned_model(whole, std::make_shared<test::TinyBackbone>(99));
    EXPECT_GT(
        (model.net->named_parameters()["backbone.conv3.weight"] - conv3).abs().max().item<double>(),
        1e-4);
    EXPECT_EQ((model.net->named_parameters()["backbone.conv1.weight"] -
               base->named_parameters()["conv1.weight"])
                  .abs()
                  .max()
                  .item<double>(),
              0.0)
        << "a frozen stage changed";
  }
}

TEST(Finetune, ResumeRejectsAnotherConfiguration) {
  const std::string dir = test::temp_dir("ft-resume-config");
  const Dataset d = test::tiny_dataset(dir, 6, 3, 2);
  const StageProblem problem = problem_of(d);
  FinetuneParams p = tiny_params();
  p.stop_after = 1;
  finetune(d, problem, all_rows(problem), std::make_shared<test::TinyBackbone>(7), p,
           dir + "/m.pt");
  p.stop_after = 0;
  p.resume = true;
  p.lr = 0.01;
  EXPECT_THROW(finetune(d, problem, all_rows(problem), std::make_shared<test::TinyBackbone>(7), p,
                        dir + "/m.pt"),
               Error);
}

TEST(Finetune, CachedTrunkTrainsTheSameWeightsAsRecomputing) {
  const std::string dir = test::temp_dir("ft-cache");
  const Dataset d = test::tiny_dataset(dir, 6, 4, 3);
  const StageProblem problem = problem_of(d);
  FinetuneParams p = tiny_params();
  p.augment.enabled = false;  // the cache holds unaugmented trunk outputs
  p.cache_trunk = true;
  auto cached = finetune(d, problem, all_rows(problem), std::make_shared<test::TinyBackbone>(7), p,
                         dir + "/cached.pt");
  p.cache_trunk = false;
  auto slow = finetune(d, problem, all_rows(problem), std::make_shared<test::TinyBackbone>(7), p,
                       dir + "/slow.pt");
  for (size_t e = 0; e < cached.curve.size(); ++e)
    EXPECT_NEAR(cached.curve[e].train_loss, slow.curve[e].train_loss, 1e-5);
  expect_same_parameters(model_parameters(dir + "/cached.pt"), model_parameters(dir + "/slow.pt"),
                         1e-5);
}

TEST(Finetune, TestGenesOfTheOuterFoldNeverReachFinetuning) {
  const std::string dir = test::temp_dir("ft-leak");
  Dataset d = test::tiny_dataset(dir, 9, 3, 4);
  const StageProblem problem = problem_of(d);
  const uint64_t seed = 2024;
  const int folds = 3, fold = 1;
  // The test fold, computed here from the split function itself.
  std::vector<std::string> genes;
  for (int r = 0; r < problem.rows(); ++r)
    genes.push_back(
        d.images[static_cast<size_t>(problem.image_indices[static_cast<size_t>(r)])].gene);
  GroupedSplitParams sp;
  sp.folds = folds;
  sp.seed = outer_fold_seed(seed, "4-6");
  const auto fold_of = grouped_kfold(genes, problem.labels, 3, sp);
  std::set<std::string> test_genes, train_genes;
  for (size_t i = 0; i < genes.size(); ++i)
    (fold_of[i] == fold ? test_genes : train_genes).insert(genes[i]);
  ASSERT_FALSE(test_genes.empty());
  // Test genes' images become undecodable: reading one would throw.
  for (const auto& image : d.images)
    if (test_genes.count(image.gene)) std::ofstream(image.path, std::ios::trunc) << "not an image";

  OuterFoldParams fp;
  fp.folds = folds;
  fp.seed = seed;
  fp.terms.top_k = 3;
  fp.terms.view = "";
  const auto allowed = outer_folds(d, "4-6", fp).rows_outside(fold);
  for (int r : allowed) EXPECT_FALSE(test_genes.count(genes[static_cast<size_t>(r)]));
  EXPECT_EQ(allowed.size() + 3 * test_genes.size(), genes.size());
  FinetuneParams p = tiny_params();
  p.seed = seed;
  p.epochs = 2;
  const std::string out = dir + "/fold.pt";
  FinetuneResult r;
  ASSERT_NO_THROW(
      r = finetune(d, problem, allowed, std::make_shared<test::TinyBackbone>(7), p, out));
  std::set<std::string> used(r.train_genes.begin(), r.train_genes.end());
  used.insert(r.val_genes.begin(), r.val_genes.end());
  EXPECT_EQ(used, train_genes);
  for (const auto& g : r.val_genes)
    EXPECT_FALSE(std::count(r.train_genes.begin(), r.train_genes.end(), g));
  const auto sidecar = nlohmann::json::parse(read_text_file(out + ".json"));
  for (const auto& g : sidecar["train_genes"]) EXPECT_FALSE(test_genes.count(g.get<std::string>()));
  for (const auto& g : sidecar["val_genes"]) EXPECT_FALSE(test_genes.count(g.get<std::string>()));

  // The gene-list route takes exactly the listed genes.
  const auto by_list =
      rows_of_genes(d, problem, std::vector<std::string>(train_genes.begin(), train_genes.end()));
  EXPECT_EQ(by_list, allowed);
}

TEST(Finetune, SavedModelReadsBackWithItsWeightsAndSidecar) {
  const std::string dir = test::temp_dir("ft-model");
  const Dataset d = test::tiny_dataset(dir, 6, 3, 5);
  const StageProblem problem = problem_of(d);
  auto backbone = std::make_shared<test::TinyBackbone>(7);
  FinetuneParams p = tiny_params();
  p.epochs = 2;
  p.val_fraction = 0;
  const auto r = finetune(d, problem, all_rows(problem), backbone, p, dir + "/m.pt");
  EXPECT_EQ(r.best_epoch, 2);
  // The trained backbone object and the one read back from disk compute the same features.
  auto model = load_finetuned_model(dir + "/m.pt", std::make_shared<test::TinyBackbone>(99));
  torch::NoGradGuard no_grad;
  auto x = torch::randn({2, 3, 32, 32});
  backbone->eval();
  const auto expected = backbone->forward_range(x, 0, 3);
  EXPECT_TRUE(torch::equal(model.net->backbone().forward_range(x, 0, 3), expected));
  EXPECT_EQ(model.terms, problem.terms);
  EXPECT_EQ(model.input_size, "32x32");
  const auto sidecar = nlohmann::json::parse(model.sidecar_json);
  EXPECT_EQ(sidecar["head"]["cut"], "conv3");
  EXPECT_EQ(sidecar["head"]["freeze_through"], "pool1");
  EXPECT_EQ(sidecar["curve"].size(), 2u);
  // The curve TSV has a row per epoch and metric.
  const std::string tsv = read_text_file(dir + "/m.pt.curve.tsv");
  EXPECT_NE(tsv.find("2\ttrain_loss\t\t"), std::string::npos);
  // A corrupted archive is refused by its hash.
  std::ofstream(dir + "/m.pt", std::ios::app) << "x";
  EXPECT_THROW(load_finetuned_model(dir + "/m.pt", std::make_shared<test::TinyBackbone>(99)),
               Error);
}

TEST(Finetune, CudaWithoutCudaIsAClearError) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "CUDA present";
  const std::string dir = test::temp_dir("ft-cuda");
  const Dataset d = test::tiny_dataset(dir, 6, 2, 6);
  const StageProblem problem = problem_of(d);
  FinetuneParams p = tiny_params();
  p.device = "cuda";
  try {
    finetune(d, problem, all_rows(problem), std::make_shared<test::TinyBackbone>(7), p,
             dir + "/m.pt");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("CUDA"), std::string::npos);
  }
}
