// Issue 15 against the evaluation protocol (library level): features that overflow the Gram
// (3e38: finite in float32, infinite once squared) or NaN scores never hang or give NaN metrics;
// all-zero rows are dropped like NaN rows; a requested stage range the dataset lacks and more
// folds than genes are errors that say so; nothing matching the store names expected and found
// ids. The references are the dataset itself (which image was made bad) and hand-made cases.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "ishannot/common/error.h"
#include "ishannot/data/dataset.h"
#include "ishannot/eval/evaluation.h"
#include "support/cli_util.h"
#include "support/store_util.h"
#include "support/test_util.h"

using namespace ishannot;

namespace {

EvaluationParams tiny_params() {
  EvaluationParams p;
  p.folds = 3;
  p.fit.inner_folds = 2;
  p.fit.c_grid = {0.1, 1};
  p.fit.ensemble.models = 3;
  p.fit.inner_models = 1;
  p.terms.top_k = 4;
  return p;
}

bool has_skip(const EvaluationResult& r, const std::string& needle, std::string* layer = nullptr) {
  for (const auto& s : r.skipped)
    if (s.reason.find(needle) != std::string::npos) {
      if (layer) *layer = s.layer;
      return true;
    }
  return false;
}

void expect_finite_metrics(const EvaluationResult& r) {
  EXPECT_FALSE(r.metrics.empty());
  for (const auto& m : r.metrics) EXPECT_TRUE(std::isfinite(m.value)) << m.term << " " << m.metric;
  for (const auto& p : r.predictions) EXPECT_TRUE(std::isfinite(p.score)) << p.id;
}

}  // namespace

// 15.1: one value 3e38 in a store (l2 or no preprocessing) made evaluate spin forever in roc_auc.
TEST(EvaluationFaults, AnOverflowingFeatureIsDroppedWithANoteNotAHang) {
  const std::string dir = test::temp_dir("eval-overflow");
  const Dataset ds = read_manifest(test::write_small_manifest(dir), false);
  test::write_store_for(dir + "/f.h5", ds, 3, [](const std::string& id, float* row) {
    if (id == "g4_1") row[3] = 3e38f;
  });
  FeatureStoreReader store(dir + "/f.h5");
  for (Preprocessing pre : {Preprocessing::kL2, Preprocessing::kNone}) {
    auto params = tiny_params();
    params.preprocessing = pre;
    const EvaluationResult r = run_evaluation(ds, store, params);
    expect_finite_metrics(r);
    EXPECT_TRUE(has_skip(r, "g4_1")) << preprocessing_name(pre);
    for (const auto& p : r.predictions) EXPECT_NE(p.id, "g4_1");
  }
}

// 15.3: an all-zero row (a batch that never reached the disk) is refused like a NaN row.
TEST(EvaluationFaults, AllZeroRowsAreDroppedWithANote) {
  const std::string dir = test::temp_dir("eval-zero");
  const Dataset ds = read_manifest(test::write_small_manifest(dir), false);
  test::write_store_for(dir + "/f.h5", ds, 3, [](const std::string& id, float* row) {
    if (id == "g7_2" || id == "g2_0")
      for (int j = 0; j < 12; ++j) row[j] = 0;
  });
  FeatureStoreReader store(dir + "/f.h5");
  for (Preprocessing pre :
       {Preprocessing::kL2, Preprocessing::kNone, Preprocessing::kStandardise}) {
    auto params = tiny_params();
    params.preprocessing = pre;
    const EvaluationResult r = run_evaluation(ds, store, params);
    expect_finite_metrics(r);
    EXPECT_TRUE(has_skip(r, "all zero")) << preprocessing_name(pre);
    EXPECT_TRUE(has_skip(r, "g2_0")) << preprocessing_name(pre);  // the first one is named
    std::set<std::string> predicted;
    for (const auto& p : r.predictions) predicted.insert(p.id);
    EXPECT_FALSE(predicted.count("g7_2"));
    EXPECT_FALSE(predicted.count("g2_0"));
    EXPECT_EQ(predicted.size(), ds.images.size() - 2);
  }
}

// 15.8: an absent --stages value is named as absent (not "do the ids match?").
TEST(EvaluationFaults, ARequestedStageRangeTheDatasetLacksIsNamed) {
  const std::string dir = test::temp_dir("eval-absent-stage");
  const Dataset ds = read_manifest(test::write_small_manifest(dir), false);
  test::write_store_for(dir + "/f.h5", ds);
  FeatureStoreReader store(dir + "/f.h5");
  auto params = tiny_params();
  params.stage_ranges = {"9-10"};
  const std::string message = test::error_text([&] { run_evaluation(ds, store, params); });
  EXPECT_NE(message.find("9-10"), std::string::npos) << message;
  EXPECT_NE(message.find("no image"), std::string::npos) << message;
  EXPECT_NE(message.find("13-16"), std::string::npos) << message;  // what there is
  EXPECT_EQ(message.find("do the ids match"), std::string::npos) << message;
}

// 15.8: --folds larger than the number of genes gave exit 0 and an empty table.
TEST(EvaluationFaults, MoreFoldsThanGenesIsAnError) {
  const std::string dir = test::temp_dir("eval-folds-genes");
  const Dataset ds = read_manifest(test::write_small_manifest(dir, 4, 3), false);
  test::write_store_for(dir + "/f.h5", ds);
  FeatureStoreReader store(dir + "/f.h5");
  auto params = tiny_params();
  params.folds = 6;
  const std::string message = test::error_text([&] { run_evaluation(ds, store, params); });
  EXPECT_NE(message.find("13-16"), std::string::npos) << message;
  EXPECT_NE(message.find("4 genes"), std::string::npos) << message;
  EXPECT_NE(message.find("6 folds"), std::string::npos) << message;
}
// 16.4: routine choices (C fell back to the default) are notes, not skips.
TEST(EvaluationFaults, RoutineNotesAreKeptApartFromSkips) {
  const std::string dir = test::temp_dir("eval-notes");
  // 4 genes and 3 folds: the inner CV of 2 folds on 2-3 training genes is often impossible.
  const Dataset ds = read_manifest(test::write_small_manifest(dir, 4, 3), false);
  test::write_store_for(dir + "/f.h5", ds);
  FeatureStoreReader store(dir + "/f.h5");
  auto params = tiny_params();
  params.fit.inner_folds = 3;
  const EvaluationResult r = run_evaluation(ds, store, params);
  EXPECT_FALSE(has_skip(r, "fallback"));
  bool noted = false;
  for (const auto& n : r.notes) noted = noted || n.reason.find("fallback") != std::string::npos;
  EXPECT_TRUE(noted);
}
