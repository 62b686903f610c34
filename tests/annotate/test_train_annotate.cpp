// train -> bundle -> annotate against evaluate: a model trained on the training genes of outer fold
// F (`train --fold F/K`) annotates fold F's test images with exactly evaluate's out-of-fold scores;
// a whole-data model's cross-validated AUC is evaluate's mean AUC; the evidence map sums to the
// decision value and points at the cell each term lights.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "ishannot/annotate/annotate.h"
#include "ishannot/annotate/annotator.h"
#include "ishannot/annotate/recipe.h"
#include "ishannot/annotate/train.h"
#include "ishannot/eval/calibration.h"
#include "ishannot/eval/evaluation.h"
#include "support/annotate_support.h"
#include "support/test_paths.h"
#include "support/test_util.h"

using namespace ishannot;

namespace {

EvaluationParams eval_params(const std::vector<double>& c_grid) {
  EvaluationParams p;
  p.layers = {"map"};
  p.folds = 3;
  p.fit.inner_folds = 2;
  p.fit.c_grid = c_grid;
  p.fit.ensemble.models = 3;
  p.fit.inner_models = 1;
  p.terms.top_k = 4;
  return p;
}

TrainParams train_params(const EvaluationParams& e) {
  TrainParams t;
  t.layers = e.layers;
  t.folds = e.folds;
  t.terms = e.terms;
  t.fit = e.fit;
  t.seed = e.seed;
  return t;
}

}  // namespace

// Agreement with evaluate (issue item 4), with C fixed and with C chosen by inner CV.
TEST(TrainAnnotate, FoldModelReproducesEvaluateOutOfFoldScores) {
  const auto dir = test::temp_dir("agree");
  const Dataset ds = test::annotate_dataset();
  test::write_map_store(dir + "/f.h5", ds, 5);
  const FeatureStoreReader store(dir + "/f.h5");
  for (const auto& grid : {std::vector<double>{1.0}, std::vector<double>{0.1, 1, 10}}) {
    SCOPED_TRACE("C grid of " + std::to_string(grid.size()));
    const EvaluationParams ep = eval_params(grid);
    const EvaluationResult evaluated = run_evaluation(ds, store, ep);
    for (int fold = 0; fold < ep.folds; ++fold) {
      TrainParams tp = train_params(ep);
      tp.fold = fold;
      const std::string bundle_path = dir + "/m" + std::to_string(fold) + ".h5";
      train_model(ds, store, tp, bundle_path);
      const ModelBundle bundle = read_model_bundle(bundle_path);
      EXPECT_EQ(bundle.attributes.at("training_scope"),
                "training genes of outer fold " + std::to_string(fold) + "/3 (seed 1234)");
      // Fold F's test images, as evaluate scored them.
      std::map<std::pair<std::string, std::string>, const PredictionRow*> expected;
      std::set<std::string> test_ids;
      for (const auto& p : evaluated.predictions)
        if (p.fold == fold) {
          expected[{p.id, p.term}] = &p;
          test_ids.insert(p.id);
        }
      Dataset test_images;
      test_images.source = "fold test images";
      for (const auto& image : ds.images)
        if (test_ids.count(image.id)) test_images.images.push_back(image);
      ASSERT_FALSE(test_images.images.empty());
      auto source = store_feature_source(dir + "/f.h5");
      AnnotateParams ap;
      ap.resume = false;
      const std::string out = dir + "/a" + std::to_string(fold);
      annotate_images(test_images, bundle, *source, ap, out);
      int compared = 0;
      for (const auto& row : test::read_tsv(out + "/annotations.tsv")) {
        auto it = expected.find({row.at("image"), row.at("term")});
        if (it == expected.end()) continue;  // a term evaluate skipped for this fold
        // Kernel form in double vs float32 weights times float32 features: ~1e-7.
        EXPECT_NEAR(std::stod(row.at("score")), it->second->score, 1e-6)
            << row.at("image") << " " << row.at("term");
        EXPECT_EQ(std::stoi(row.at("votes")), it->second->votes);
        EXPECT_EQ(std::stoi(row.at("predicted")), it->second->vote);
        ++compared;
      }
      EXPECT_GT(compared, 30) << "fold " << fold;
    }
  }
}

TEST(TrainAnnotate, CrossValidatedQualityIsEvaluatesMeanAuc) {
  const auto dir = test::temp_dir("cvq");
  const Dataset ds = test::annotate_dataset();
  test::write_map_store(dir + "/f.h5", ds, 6);
  const FeatureStoreReader store(dir + "/f.h5");
  const EvaluationParams ep = eval_params({0.1, 1, 10});
  const EvaluationResult evaluated = run_evaluation(ds, store, ep);
  std::map<std::pair<std::string, std::string>, std::vector<double>> aucs;
  for (const auto& m : evaluated.metrics)
    if (m.metric == "auc") aucs[{m.stage_range, m.term}].push_back(m.value);
  // Calibration: fitted on exactly evaluate's out-of-fold predictions of the term.
  std::map<std::pair<std::string, std::string>,
           std::pair<std::vector<double>, std::vector<uint8_t>>>
      oof;
  for (const auto& p : evaluated.predictions) {
    auto& [scores, labels] = oof[{p.stage_range, p.term}];
    scores.push_back(p.score);
    labels.push_back(static_cast<uint8_t>(p.label));
  }
  train_model(ds, store, train_params(ep), dir + "/m.h5");
  const ModelBundle bundle = read_model_bundle(dir + "/m.h5");
  EXPECT_EQ(bundle.stage_ranges(), (std::vector<std::string>{"4-6", "13-16"}));
  int checked = 0;
  for (const auto& stage : bundle.stages)
    for (const auto& term : stage.terms) {
      const auto& v = aucs[{stage.stage_range, term.term}];
      ASSERT_FALSE(v.empty()) << term.term;
      double mean = 0;
      for (double a : v) mean += a;
      mean /= static_cast<double>(v.size());
      EXPECT_DOUBLE_EQ(term.cv.auc, mean) << term.term;
      EXPECT_EQ(term.cv.folds, static_cast<int>(v.size()));
      EXPECT_EQ(static_cast<int64_t>(term.bias.size()), 3);
      const auto& [scores, labels] = oof.at({stage.stage_range, term.term});
      EXPECT_EQ(term.calibration.samples, static_cast<int64_t>(scores.size()));
      if (term.cv.folds >= 2) {  // Platt (the default) on evaluate's out-of-fold predictions
        const Calibration expected = fit_platt(scores, labels);
        EXPECT_EQ(term.calibration.method, CalibrationMethod::kPlatt) << term.term;
        EXPECT_DOUBLE_EQ(term.calibration.a, expected.a) << term.term;
        EXPECT_DOUBLE_EQ(term.calibration.b, expected.b) << term.term;
      } else {
        EXPECT_EQ(term.calibration.method, CalibrationMethod::kNone) << term.term;
      }
      ++checked;
    }
  EXPECT_GE(checked, 5);
  EXPECT_TRUE(bundle.calibrated);
  EXPECT_EQ(bundle.attributes.at("calibration"), "platt");
  EXPECT_EQ(bundle.attributes.at("training_scope"), "all genes");
}

TEST(TrainAnnotate, EvidenceMapSumsToTheDecisionAndFindsTheTermsCell) {
  const auto dir = test::temp_dir("evidence");
  const Dataset ds = test::annotate_dataset();
  test::write_map_store(dir + "/f.h5", ds, 8, 2.0);
  const FeatureStoreReader store(dir + "/f.h5");
  TrainParams tp = train_params(eval_params({1.0}));
  tp.folds = 0;
  train_model(ds, store, tp, dir + "/m.h5");
  const ModelBundle bundle = read_model_bundle(dir + "/m.h5");
  std::string reason;
  const auto grids = recipe_grids(bundle.recipe, &reason);
  ASSERT_EQ(grids.size(), 1u) << reason;
  EXPECT_EQ(grids[0].rows, test::kRows);
  EXPECT_EQ(grids[0].cols, test::kCols);
  const StageAnnotator annotator(bundle, *bundle.stage("13-16"));
  std::vector<int64_t> rows;
  for (size_t i = 0; i < ds.images.size(); ++i)
    if (ds.images[i].stage_range == "13-16") rows.push_back(static_cast<int64_t>(i));
  std::vector<float> x(rows.size() * static_cast<size_t>(annotator.dim()));
  store.read_rows("map", rows, x.data());
  annotator.preprocess(x.data(), static_cast<int64_t>(rows.size()));
  const BatchScores scores = annotator.score(x.data(), static_cast<int64_t>(rows.size()));
  int hits = 0, positives = 0;
  for (size_t i = 0; i < rows.size(); ++i)
    for (int t = 0; t < scores.terms; ++t) {
      const float* row = x.data() + i * static_cast<size_t>(annotator.dim());
      const auto maps = annotator.contributions(row, t, grids);
      const double total = maps[0].sum() + annotator.mean_bias(t);
      EXPECT_NEAR(total, scores.decision[i * static_cast<size_t>(scores.terms) + t], 1e-6);
      const auto& term = annotator.stage().terms[static_cast<size_t>(t)].term;
      const auto& image = ds.images[static_cast<size_t>(rows[i])];
      if (std::find(image.terms.begin(), image.terms.end(), term) == image.terms.end()) continue;
      Eigen::Index r = 0, c = 0;
      maps[0].maxCoeff(&r, &c);
      ++positives;
      hits += static_cast<int>(r * test::kCols + c) == test::term_cell(term);
    }
  EXPECT_GT(positives, 40);
  EXPECT_GT(hits, positives * 8 / 10) << hits << " of " << positives;
}

// A run killed while training 13-16 resumes at 13-16 (4-6 is kept from OUT.partial) and ends
// with the same bundle as an uninterrupted run.
TEST(TrainAnnotate, KilledTrainingResumesAtTheUnfinishedStageRange) {
  const auto dir = test::temp_dir("train-resume");
  const Dataset ds = test::annotate_dataset();
  test::write_map_store(dir + "/f.h5", ds, 10);
  const FeatureStoreReader store(dir + "/f.h5");
  TrainParams tp = train_params(eval_params({1.0}));
  train_model(ds, store, tp, dir + "/clean.h5");
  Reporter killer;
  killer.progress = [](const std::string& stage, int64_t, int64_t) {
    if (stage == "train 13-16") throw Error("killed");
  };
  EXPECT_THROW(train_model(ds, store, tp, dir + "/m.h5", killer), Error);
  EXPECT_TRUE(std::filesystem::exists(dir + "/m.h5.partial"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/m.h5"));
  const TrainSummary s = train_model(ds, store, tp, dir + "/m.h5");
  EXPECT_EQ(s.resumed_stages, 1);
  const ModelBundle a = read_model_bundle(dir + "/clean.h5"), b = read_model_bundle(dir + "/m.h5");
  ASSERT_EQ(a.stage_ranges(), b.stage_ranges());
  for (const auto& name : a.stage_ranges()) {
    StageModel x = *a.stage(name), y = *b.stage(name);
    load_stage_weights(a, x);
    load_stage_weights(b, y);
    EXPECT_EQ(x.weights, y.weights) << name;
    ASSERT_EQ(x.terms.size(), y.terms.size());
    for (size_t t = 0; t < x.terms.size(); ++t) EXPECT_EQ(x.terms[t].bias, y.terms[t].bias);
  }
}
