// evaluate --protocol groups-shuffled (eval/protocol.h): the stage ranges pooled, gene x stage
// groups (not genes) split, the top-k counted over all stage ranges; a fine-tuned store refused.
// References: the groups and folds read back from the predictions, term counts by hand.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "ishannot/common/error.h"
#include "ishannot/eval/evaluation.h"
#include "ishannot/eval/protocol.h"
#include "ishannot/features/feature_store.h"
#include "ishannot/features/store_attributes.h"
#include "support/store_util.h"
#include "support/test_paths.h"

using namespace ishannot;

namespace {

// 20 genes, each at 9-10 and 13-16 with 2 images; terms differ by stage range ("early_x" only
// at 9-10); one image at 1-3 (left out, as by the default protocol).
Dataset two_stage_dataset() {
  Dataset ds;
  ds.source = "two-stage";
  for (int g = 0; g < 20; ++g)
    for (const char* stage : {"9-10", "13-16"})
      for (int i = 0; i < 2; ++i) {
        ImageRecord r;
        r.gene = "gene" + std::to_string(g);
        r.stage_range = stage;
        r.id = r.gene + "_" + stage + "_" + std::to_string(i);
        if (g % 2 == 0) r.terms.push_back(std::string(stage) == "9-10" ? "early_x" : "late_x");
        if (g % 3 == 0) r.terms.push_back("both_y");
        ds.images.push_back(r);
      }
  ImageRecord early;
  early.gene = "gene0";
  early.stage_range = "1-3";
  early.id = "gene0_early";
  ds.images.push_back(early);
  return ds;
}

EvaluationParams small_params() {
  EvaluationParams p;
  p.folds = 4;
  p.fit.inner_folds = 2;
  p.fit.c_grid = {1};
  p.fit.ensemble.models = 3;
  p.fit.inner_models = 1;
  p.terms.top_k = 3;
  p.protocol = EvaluationProtocol::kGroupsShuffled;
  return p;
}

}  // namespace

TEST(GroupsShuffled, PoolsStageRangesAndSplitsGroupsNotGenes) {
  const auto dir = test::temp_dir("groups-shuffled");
  const Dataset ds = two_stage_dataset();
  test::write_store_for(dir + "/f.h5", ds);
  const FeatureStoreReader store(dir + "/f.h5");
  const auto r = run_evaluation(ds, store, small_params());
  ASSERT_EQ(r.stage_ranges, std::vector<std::string>{kPooledStageRange});
  std::map<std::string, int> fold_of_group;
  std::map<std::string, std::set<int>> folds_of_gene;
  std::set<std::string> terms;
  for (const auto& p : r.predictions) {
    EXPECT_EQ(p.stage_range, kPooledStageRange);
    const auto at = p.gene.find('@');
    ASSERT_NE(at, std::string::npos) << p.gene;
    EXPECT_NE(p.gene.substr(at + 1), "1-3");
    auto [it, fresh] = fold_of_group.try_emplace(p.gene, p.fold);
    EXPECT_EQ(it->second, p.fold) << "group " << p.gene << " in two folds";
    folds_of_gene[p.gene.substr(0, at)].insert(p.fold);
    terms.insert(p.term);
  }
  EXPECT_EQ(fold_of_group.size(), 40u);  // 20 genes x 2 stage ranges
  int split_genes = 0;
  for (const auto& [gene, folds] : folds_of_gene) split_genes += folds.size() > 1;
  EXPECT_GT(split_genes, 0);  // a gene's groups may sit in different folds: the looser protocol
  // Top 3 over both stage ranges by image count: both_y 28, early_x 20, late_x 20.
  EXPECT_EQ(terms, (std::set<std::string>{"both_y", "early_x", "late_x"}));
}

TEST(GroupsShuffled, RefusesAFineTunedStoreAndUnknownNames) {
  const auto dir = test::temp_dir("groups-shuffled-ft");
  const Dataset ds = two_stage_dataset();
  std::vector<std::string> ids;
  std::vector<float> values;
  for (const auto& image : ds.images) {
    ids.push_back(image.id);
    for (int j = 0; j < 4; ++j) values.push_back(static_cast<float>(ids.size() + j));
  }
  {
    FeatureStoreWriter w(dir + "/ft.h5", {{"feat", 4, "4x1x1"}}, FeatureDtype::kFloat32,
                         {{"backbone", "synthetic"}});
    w.append(ids, {{"feat", values.data()}});
    w.set_attribute(store_attr::kFinetuneGenes, "gene1\ngene2\n");
    w.close();
  }
  try {
    run_evaluation(ds, FeatureStoreReader(dir + "/ft.h5"), small_params());
    FAIL() << "a fine-tuned store was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("ft.h5"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("fine-tuned"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_evaluation_protocol("shuffled"), Error);
  EXPECT_EQ(evaluation_protocol_name(parse_evaluation_protocol("groups-shuffled")),
            "groups-shuffled");
  EXPECT_THROW(parse_stage(kPooledStageRange), Error);  // never a user's stage
}
