// Trust in annotate's outputs (issue 20): a model trained with cross-validation carries per-term
// quality and a calibration; annotating held-out genes whose terms are known writes the trust
// columns, probabilities and calls, and validation.tsv — checked here against values computed
// independently from annotations.tsv / groups.tsv and the data's terms (naive pairwise AUC,
// counts). Calibrated probabilities score a lower Brier than raw scores on the held-out genes. An
// old bundle (no calibration datasets) still loads and says so; the model card and the collapsed
// notes read as documented.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "ishannot/annotate/annotate.h"
#include "ishannot/annotate/model_card.h"
#include "ishannot/annotate/train.h"
#include "ishannot/common/fs_util.h"
#include "support/annotate_support.h"
#include "support/test_paths.h"
#include "support/test_util.h"

using namespace ishannot;

namespace {

bool held_out(const ImageRecord& image) {
  const int g = std::stoi(image.gene.substr(4));
  return image.stage_range == "13-16" ? g >= 20 : g >= 9;
}

// Trained on the genes that are not held out (weak signal: scores are not already certain).
struct TrustFixture {
  std::string dir;
  Dataset train, test;
  ModelBundle bundle;
  explicit TrustFixture(const std::string& name) : dir(test::temp_dir(name)) {
    const Dataset all = test::annotate_dataset();
    for (const auto& image : all.images) (held_out(image) ? test : train).images.push_back(image);
    train.source = test.source = all.source;
    test::write_map_store(dir + "/f.h5", all, 21, 0.45);
    TrainParams tp;
    tp.folds = 3;
    tp.layers = {"map"};
    tp.fit.c_grid = {1.0};
    tp.fit.ensemble.models = 5;
    const FeatureStoreReader store(dir + "/f.h5");
    train_model(train, store, tp, dir + "/m.h5");
    bundle = read_model_bundle(dir + "/m.h5");
  }
};

double naive_auc(const std::vector<double>& s, const std::vector<int>& y) {
  double wins = 0, pairs = 0;
  for (size_t i = 0; i < s.size(); ++i)
    for (size_t j = 0; j < s.size(); ++j)
      if (y[i] == 1 && y[j] == 0) {
        pairs += 1;
        wins += s[i] > s[j] ? 1 : s[i] == s[j] ? 0.5 : 0;
      }
  return wins / pairs;
}

bool carries(const Dataset& ds, const std::string& id, const std::string& term) {
  for (const auto& image : ds.images)
    if (image.id == id) return std::count(image.terms.begin(), image.terms.end(), term) > 0;
  ADD_FAILURE() << id;
  return false;
}

using Row = std::map<std::string, std::string>;

// Expected validation.tsv numbers of some rows (truth from `truth_of`).
void expect_validation(const Row& v, const std::vector<const Row*>& rows,
                       const std::function<int(const Row&)>& truth_of) {
  std::vector<double> scores;
  std::vector<int> truth;
  int yes = 0, no = 0, uncertain = 0, true_yes = 0, positives = 0;
  for (const Row* r : rows) {
    scores.push_back(std::stod(r->at("score")));
    truth.push_back(truth_of(*r));
    positives += truth.back();
    const std::string& call = r->at("call");
    yes += call == "yes";
    no += call == "no";
    uncertain += call == "uncertain";
    if (call == "yes") true_yes += truth.back();
  }
  const std::string what = v.at("level") + " " + v.at("stage_range") + " " + v.at("term");
  EXPECT_EQ(std::stoi(v.at("n")), static_cast<int>(rows.size())) << what;
  EXPECT_EQ(std::stoi(v.at("positives")), positives) << what;
  EXPECT_EQ(std::stoi(v.at("yes")), yes) << what;
  EXPECT_EQ(std::stoi(v.at("no")), no) << what;
  EXPECT_EQ(std::stoi(v.at("uncertain")), uncertain) << what;
  if (positives > 0 && positives < static_cast<int>(rows.size())) {
    EXPECT_NEAR(std::stod(v.at("auc")), naive_auc(scores, truth), 1e-12) << what;
  } else {
    EXPECT_EQ(v.at("auc"), "") << what;
  }
  if (yes > 0) {
    EXPECT_NEAR(std::stod(v.at("precision")), double(true_yes) / yes, 1e-12) << what;
  } else {
    EXPECT_EQ(v.at("precision"), "") << what;
  }
  if (positives > 0) {
    EXPECT_NEAR(std::stod(v.at("recall")), double(true_yes) / positives, 1e-12) << what;
  }
}

}  // namespace

TEST(Trust, HeldOutGenesGetTrustColumnsCallsAndValidation) {
  TrustFixture f("trust-held-out");
  EXPECT_TRUE(f.bundle.calibrated);
  auto source = store_feature_source(f.dir + "/f.h5");
  AnnotateParams ap;
  ap.validate = true;
  const auto s = annotate_images(f.test, f.bundle, *source, ap, f.dir + "/out");
  EXPECT_TRUE(s.validated);
  const auto rows = test::read_tsv(f.dir + "/out/annotations.tsv");
  double brier_raw = 0, brier_calibrated = 0;
  int with_probability = 0;
  for (const auto& r : rows) {
    const TermModel* term = nullptr;
    for (const auto& t : f.bundle.stage(r.at("stage_range"))->terms)
      if (t.term == r.at("term")) term = &t;
    ASSERT_NE(term, nullptr);
    const bool validated = term->cv.folds >= 2 && term->cv.auc >= 0.7;
    EXPECT_EQ(r.at("validated"), validated ? "1" : "0");
    EXPECT_EQ(r.at("term_positive_genes"), std::to_string(term->positive_genes));
    EXPECT_EQ(r.at("term_positives"), std::to_string(term->positives));
    EXPECT_EQ(r.at("term_cv_folds"), std::to_string(term->cv.folds));
    if (r.at("probability").empty()) {
      EXPECT_EQ(r.at("call"), "uncertain");
      continue;
    }
    const double p = std::stod(r.at("probability")), score = std::stod(r.at("score"));
    EXPECT_NEAR(p, term->calibration.apply(score), 1e-12);
    const std::string call = !validated ? "uncertain"
                             : p > 0.8  ? "yes"
                             : p < 0.2  ? "no"
                                        : "uncertain";
    EXPECT_EQ(r.at("call"), call) << r.at("image") << " " << r.at("term");
    const int y = carries(f.test, r.at("image"), r.at("term"));
    brier_raw += (score - y) * (score - y);
    brier_calibrated += (p - y) * (p - y);
    ++with_probability;
  }
  ASSERT_GT(with_probability, 50);
  // Calibration on the training genes' out-of-fold scores helps on genes it never saw.
  EXPECT_LT(brier_calibrated, brier_raw)
      << brier_calibrated / with_probability << " vs " << brier_raw / with_probability;

  // validation.tsv, image level: every (stage, term) and 'all' recomputed from the rows.
  const auto validation = test::read_tsv(f.dir + "/out/validation.tsv");
  int checked = 0;
  for (const auto& v : validation) {
    if (v.at("level") != "image") continue;
    std::vector<const Row*> subset;
    for (const auto& r : rows)
      if (r.at("stage_range") == v.at("stage_range") &&
          (v.at("term") == "all" || r.at("term") == v.at("term")))
        subset.push_back(&r);
    expect_validation(v, subset, [&](const Row& r) {
      return carries(f.test, r.at("image"), r.at("term")) ? 1 : 0;
    });
    ++checked;
  }
  EXPECT_EQ(checked, 4 + 2 + 2);  // 13-16: 4 terms, 4-6: 2 terms, and 'all' of each
  // Group level: from groups.tsv; a group carries the term when its images do.
  const auto groups = test::read_tsv(f.dir + "/out/groups.tsv");
  std::map<std::pair<std::string, std::string>, std::set<std::string>> group_terms;
  for (const auto& image : f.test.images)
    for (const auto& t : image.terms) group_terms[{image.gene, image.stage_range}].insert(t);
  for (const auto& v : validation) {
    if (v.at("level") != "group") continue;
    std::vector<const Row*> subset;
    for (const auto& g : groups)
      if (g.at("stage_range") == v.at("stage_range") &&
          (v.at("term") == "all" || g.at("term") == v.at("term")))
        subset.push_back(&g);
    expect_validation(v, subset, [&](const Row& g) {
      return group_terms[{g.at("gene"), g.at("stage_range")}].count(g.at("term")) ? 1 : 0;
    });
    ++checked;
  }
  EXPECT_EQ(checked, 16);
  // Reliability bins add up to the calls with a probability.
  int64_t binned = 0;
  for (const auto& b : test::read_tsv(f.dir + "/out/reliability.tsv"))
    if (b.at("level") == "image") binned += std::stoll(b.at("n"));
  EXPECT_EQ(binned, with_probability);
  const std::string columns = read_text_file(f.dir + "/out/columns.tsv");
  EXPECT_NE(columns.find("validation.tsv\tprecision\t"), std::string::npos);
}

TEST(Trust, OldBundleWithoutCalibrationLoadsAndSaysSo) {
  TrustFixture f("trust-old-bundle");
  const std::string old = f.dir + "/old.h5";
  std::filesystem::copy_file(f.dir + "/m.h5", old);
  {  // remove what older versions did not write
    const hid_t file = H5Fopen(old.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(file, 0);
    for (const char* stage : {"/stages/4-6/", "/stages/13-16/"})
      for (const char* name :
           {"calibration_method", "calibration_ab", "calibration_samples",
            "calibration_knot_counts", "calibration_knots", "calibration_values"})
        ASSERT_GE(H5Ldelete(file, (std::string(stage) + name).c_str(), H5P_DEFAULT), 0);
    H5Adelete(file, "calibration");
    H5Fclose(file);
  }
  const ModelBundle bundle = read_model_bundle(old);
  EXPECT_FALSE(bundle.calibrated);
  for (const auto& s : bundle.stages)
    for (const auto& t : s.terms) EXPECT_EQ(t.calibration.method, CalibrationMethod::kNone);
  auto source = store_feature_source(f.dir + "/f.h5");
  const auto s = annotate_images(f.test, bundle, *source, AnnotateParams{}, f.dir + "/out");
  EXPECT_EQ(s.uncalibrated_terms, s.terms);
  for (const auto& r : test::read_tsv(f.dir + "/out/annotations.tsv")) {
    EXPECT_EQ(r.at("probability"), "");
    EXPECT_EQ(r.at("call"), "uncertain");
  }
  const std::string run = read_text_file(f.dir + "/out/run.json");
  EXPECT_NE(run.find("\"bundle_has_calibration\": false"), std::string::npos);
  EXPECT_NE(model_card(bundle, CallBand{}).find("none (bundle written before calibration"),
            std::string::npos);
}

TEST(Trust, ModelCardListsEveryTermWithItsQuality) {
  TrustFixture f("trust-card");
  const std::string card = model_card(f.bundle, CallBand{});
  int validated = 0, terms = 0;
  for (const auto& s : f.bundle.stages)
    for (const auto& t : s.terms) {
      ++terms;
      validated += t.cv.folds >= 2 && t.cv.auc >= 0.7;
      char auc[16];
      std::snprintf(auc, sizeof auc, "%.3f", t.cv.auc);
      EXPECT_NE(card.find(t.term), std::string::npos) << t.term;
      EXPECT_NE(card.find(auc), std::string::npos) << t.term;
    }
  EXPECT_NE(
      card.find(std::to_string(validated) + " of " + std::to_string(terms) + " terms validated"),
      std::string::npos)
      << card;
  EXPECT_NE(card.find("platt on each term's out-of-fold CV scores"), std::string::npos);
  EXPECT_NE(card.find(f.dir + "/f.h5"), std::string::npos);  // the training features
}

TEST(Trust, NotesOfOneKindCollapseToOneLine) {
  const auto lines = collapse_notes(
      {"13-16: term 'a': all its training positives come from one gene (g1): the model may know",
       "13-16: inner CV impossible",
       "4-6: term 'b': all its training positives come from one gene (g7): the model may know",
       "13-16: term 'c': all its training positives come from one gene (g2): the model may know"});
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0],
            "3 x 13-16: term 'a': all its training positives come from one gene (g1): the model "
            "may know (also: 'b', 'c')");
  EXPECT_EQ(lines[1], "13-16: inner CV impossible");
}
