// annotate's files: annotations.tsv (one row per image x term), groups.tsv recomputed here from
// annotations.tsv by each rule's definition, heat maps and their index, contact sheets, run.json
// (the bundle's SHA-256 from sha256sum); bad input stops before anything is written; unreadable
// or feature-less images are skipped and listed; a killed run resumes to the same files.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <set>
#include <sstream>

#include "ishannot/annotate/annotate.h"
#include "ishannot/annotate/train.h"
#include "ishannot/common/fs_util.h"
#include "support/annotate_support.h"
#include "support/test_paths.h"
#include "support/test_util.h"

using namespace ishannot;
namespace fs = std::filesystem;

namespace {

// A trained bundle and its store, and image files for the 13-16 images (for heat maps).
struct Fixture {
  std::string dir;
  Dataset ds;
  ModelBundle bundle;
  explicit Fixture(const std::string& name) : dir(test::temp_dir(name)) {
    ds = test::annotate_dataset();
    for (auto& image : ds.images) {
      image.path = dir + "/" + image.id + ".png";
      cv::Mat img(64, 96, CV_8UC3, cv::Scalar(200, 210, 220));
      cv::circle(img, {48, 32}, 20, {120, 60, 60}, -1);
      cv::imwrite(image.path, img);
    }
    test::write_map_store(dir + "/f.h5", ds, 9, 2.0);
    TrainParams tp;
    tp.folds = 0;
    tp.layers = {"map"};
    tp.fit.c_grid = {1.0};
    tp.fit.ensemble.models = 5;
    const FeatureStoreReader store(dir + "/f.h5");
    train_model(ds, store, tp, dir + "/m.h5");
    bundle = read_model_bundle(dir + "/m.h5");
  }
};

// A source that fails after `reads` batches (a killed run).
class Failing : public FeatureSource {
 public:
  Failing(std::unique_ptr<FeatureSource> inner, int reads)
      : inner_(std::move(inner)), left_(reads) {}
  std::string description() const override { return inner_->description(); }
  std::map<std::string, std::string> attributes() const override { return inner_->attributes(); }
  std::vector<LayerSpec> layers() const override { return inner_->layers(); }
  void read(const std::vector<const ImageRecord*>& images, const std::vector<std::string>& layers,
            std::vector<float>& rows, std::vector<std::string>& failure,
            std::vector<cv::Mat>* decoded) override {
    if (left_-- == 0) throw Error("killed");
    inner_->read(images, layers, rows, failure, decoded);
  }

 private:
  std::unique_ptr<FeatureSource> inner_;
  int left_;
};

}  // namespace

TEST(Annotate, OutputsGroupsAndHeatmaps) {
  Fixture f("annotate-out");
  Dataset input = f.ds;
  input.images[3].path = f.dir + "/broken.png";  // still annotated from the store
  ImageRecord stray = f.ds.images[0];
  stray.id = "not_in_store";
  input.images.push_back(stray);  // no features: skipped
  auto source = store_feature_source(f.dir + "/f.h5");
  AnnotateParams ap;
  ap.batch = 7;
  const auto s = annotate_images(input, f.bundle, *source, ap, f.dir + "/out");
  EXPECT_EQ(s.images, static_cast<int64_t>(f.ds.images.size()));
  EXPECT_EQ(s.skipped, 1);
  const auto rows = test::read_tsv(f.dir + "/out/annotations.tsv");
  const std::string header = read_text_file(f.dir + "/out/annotations.tsv").substr(0, 200);
  EXPECT_EQ(header.substr(0, header.find('\n')),
            "image\tpath\tgene\tstage_range\tstage_order\tterm\tscore\tvotes\tmembers\tpredicted\t"
            "probability\tcall\tterm_auc\tterm_cv_folds\tterm_positive_genes\tterm_positives\t"
            "validated");
  size_t expected_rows = 0;
  for (const auto& image : f.ds.images)
    expected_rows += f.bundle.stage(image.stage_range)->terms.size();
  EXPECT_EQ(rows.size(), expected_rows);
  // groups.tsv, recomputed from annotations.tsv: mean score per gene x stage x term.
  std::map<std::tuple<std::string, std::string, std::string>, std::pair<double, int>> mean;
  for (const auto& r : rows) {
    EXPECT_EQ(r.at("stage_order"), r.at("stage_range") == "4-6" ? "2" : "6");
    EXPECT_EQ(r.at("members"), "5");
    EXPECT_EQ(r.at("predicted"), std::stoi(r.at("votes")) >= 3 ? "1" : "0");
    // Trained without cross-validation: no quality, no calibration, so nothing is trusted.
    EXPECT_EQ(r.at("probability"), "");
    EXPECT_EQ(r.at("term_auc"), "");
    EXPECT_EQ(r.at("validated"), "0");
    EXPECT_EQ(r.at("call"), "uncertain");
    auto& m = mean[{r.at("gene"), r.at("stage_range"), r.at("term")}];
    m.first += std::stod(r.at("score"));
    m.second += 1;
  }
  const auto groups = test::read_tsv(f.dir + "/out/groups.tsv");
  EXPECT_EQ(groups.size(), mean.size());
  std::set<std::pair<std::string, std::string>> gene_stages;  // the summary counts these
  for (const auto& g : groups) gene_stages.insert({g.at("gene"), g.at("stage_range")});
  EXPECT_EQ(s.groups, static_cast<int64_t>(gene_stages.size()));
  for (const auto& g : groups) {
    const auto& m = mean.at({g.at("gene"), g.at("stage_range"), g.at("term")});
    EXPECT_NEAR(std::stod(g.at("score")), m.first / m.second, 1e-12);
    EXPECT_EQ(std::stoi(g.at("images")), m.second);
    EXPECT_EQ(g.at("predicted"), m.first / m.second > 0.5 ? "1" : "0");
    EXPECT_EQ(g.at("call"), "uncertain");
    EXPECT_EQ(g.at("rule"), "mean");
  }
  // Heat maps: every index row names a PNG, for a term labelled 1: the image (its size, painted
  // only inside the embryo: the circle) above a caption strip, and the raw grid as .npy.
  const auto index = test::read_tsv(f.dir + "/out/heatmaps/index.tsv");
  EXPECT_GT(index.size(), 20u);
  cv::Mat original(64, 96, CV_8UC3, cv::Scalar(200, 210, 220)), outside(64, 96, CV_8U, 255);
  cv::circle(original, {48, 32}, 20, {120, 60, 60}, -1);
  cv::circle(outside, {48, 32}, 23, 0, -1);
  for (const auto& h : index) {
    const cv::Mat png = cv::imread(f.dir + "/out/heatmaps/" + h.at("file"));
    ASSERT_FALSE(png.empty()) << h.at("file");
    EXPECT_EQ(png.cols, 300);  // the strip is at least 300 pixels wide
    EXPECT_GT(png.rows, 64);
    cv::Mat diff;
    cv::absdiff(png(cv::Rect(0, 0, 96, 64)), original, diff);
    cv::cvtColor(diff, diff, cv::COLOR_BGR2GRAY);
    EXPECT_EQ(cv::countNonZero(diff & outside), 0) << h.at("file") << ": painted off the embryo";
    const std::string file = h.at("file");
    EXPECT_TRUE(fs::exists(f.dir + "/out/heatmaps/" + file.substr(0, file.size() - 4) + ".map.npy"))
        << file;
  }
  EXPECT_TRUE(fs::exists(f.dir + "/out/heatmaps/sheet_13-16_t_brain.png"));
  EXPECT_NE(read_text_file(f.dir + "/out/skipped.tsv").find("not_in_store"), std::string::npos);
  const auto run = nlohmann::json::parse(read_text_file(f.dir + "/out/run.json"));
  ASSERT_EQ(std::system(("sha256sum " + f.dir + "/m.h5 > " + f.dir + "/sha.txt").c_str()), 0);
  EXPECT_EQ(run["bundle"]["sha256"], read_text_file(f.dir + "/sha.txt").substr(0, 64));
  EXPECT_EQ(run["heatmaps"]["available"], true);
  EXPECT_EQ(run["counts"]["skipped"], 1);
  EXPECT_FALSE(fs::exists(f.dir + "/out/annotate.progress"));
  EXPECT_FALSE(fs::exists(f.dir + "/out/validation.tsv"));  // not asked for
  // The registration check read every image file but the broken one (standardize's tests check
  // what it finds); all of them are in registration.tsv.
  const auto checks = test::read_tsv(f.dir + "/out/registration.tsv");
  ASSERT_EQ(checks.size(), input.images.size());
  for (const auto& c : checks)
    EXPECT_EQ(c.at("read"), c.at("image") == input.images[3].id ? "0" : "1") << c.at("image");
  EXPECT_EQ(s.registration_checked, static_cast<int64_t>(input.images.size()) - 1);
  // columns.tsv names every column of every TSV written, with a meaning.
  std::set<std::pair<std::string, std::string>> documented;
  for (const auto& c : test::read_tsv(f.dir + "/out/columns.tsv")) {
    EXPECT_FALSE(c.at("meaning").empty()) << c.at("file") << " " << c.at("column");
    documented.insert({c.at("file"), c.at("column")});
  }
  for (const std::string file :
       {"annotations.tsv", "groups.tsv", "heatmaps/index.tsv", "skipped.tsv", "registration.tsv"}) {
    const std::string text = read_text_file(f.dir + "/out/" + file);
    std::stringstream header(text.substr(0, text.find('\n')));
    for (std::string column; std::getline(header, column, '\t');)
      EXPECT_TRUE(documented.count({file, column})) << file << " " << column;
  }
}

TEST(Annotate, GroupRulesMaxAndVotes) {
  GroupAccumulator g;
  g.add(0.2, 1, 5, 0);
  g.add(0.9, 4, 5, 1);
  g.add(0.3, 2, 5, 0);
  EXPECT_NEAR(g.score(GroupRule::kMean), (0.2 + 0.9 + 0.3) / 3, 1e-15);
  EXPECT_EQ(g.label(GroupRule::kMean), 0);
  EXPECT_EQ(g.score(GroupRule::kMax), 0.9);
  EXPECT_EQ(g.label(GroupRule::kMax), 1);
  EXPECT_NEAR(g.score(GroupRule::kVotes), 7.0 / 15.0, 1e-15);
  EXPECT_EQ(g.label(GroupRule::kVotes), 0);
  EXPECT_EQ(parse_group_rule("votes"), GroupRule::kVotes);
  EXPECT_THROW(parse_group_rule("median"), Error);
}

TEST(Annotate, BadInputStopsBeforeWriting) {
  Fixture f("annotate-bad");
  AnnotateParams ap;
  auto expect_error = [&](const Dataset& input, const std::string& store, const std::string& what) {
    auto source = store_feature_source(store);
    const std::string out = f.dir + "/bad";
    const std::string message =
        test::error_text([&] { annotate_images(input, f.bundle, *source, ap, out); });
    EXPECT_NE(message.find(what), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << "one line";
    EXPECT_FALSE(fs::exists(out + "/annotations.tsv"));
    EXPECT_FALSE(fs::exists(out + "/annotations.tsv.partial"));
  };
  // Features made with another pooling / other weights than the bundle's.
  test::write_map_store(f.dir + "/pool.h5", f.ds, 9, 2.0, {{"pooling", "avg:2x3"}});
  expect_error(f.ds, f.dir + "/pool.h5", "pooling is avg:2x3, the bundle needs none");
  test::write_map_store(f.dir + "/w.h5", f.ds, 9, 2.0, {{"weights_sha256", "ffff"}});
  expect_error(f.ds, f.dir + "/w.h5", "weights_sha256 is ffff");
  // A stage range the bundle lacks: the error lists the ones it has.
  Dataset other = f.ds;
  other.images[0].stage_range = "9-10";
  expect_error(other, f.dir + "/f.h5", "it has 4-6, 13-16");
  // No stage range and no --stage.
  Dataset folder = f.ds;
  for (auto& image : folder.images) image.stage_range.clear();
  expect_error(folder, f.dir + "/f.h5", "give --stage");
  // ... with --stage it runs.
  ap.stage_range = "13-16";
  auto source = store_feature_source(f.dir + "/f.h5");
  EXPECT_GT(annotate_images(folder, f.bundle, *source, ap, f.dir + "/staged").images, 50);
}

TEST(Annotate, ResumesAKilledRunToTheSameFiles) {
  Fixture f("annotate-resume");
  AnnotateParams ap;
  ap.batch = 10;
  auto clean = store_feature_source(f.dir + "/f.h5");
  annotate_images(f.ds, f.bundle, *clean, ap, f.dir + "/clean");
  Failing failing(store_feature_source(f.dir + "/f.h5"), 4);
  EXPECT_THROW(annotate_images(f.ds, f.bundle, failing, ap, f.dir + "/killed"), Error);
  EXPECT_TRUE(fs::exists(f.dir + "/killed/annotate.progress"));
  EXPECT_FALSE(fs::exists(f.dir + "/killed/annotations.tsv"));
  auto again = store_feature_source(f.dir + "/f.h5");
  const auto s = annotate_images(f.ds, f.bundle, *again, ap, f.dir + "/killed");
  EXPECT_EQ(s.resumed, 40);  // four batches of 10 (batches run across stage ranges)
  for (const char* file : {"annotations.tsv", "groups.tsv", "skipped.tsv", "heatmaps/index.tsv"})
    EXPECT_EQ(read_text_file(f.dir + "/killed/" + file), read_text_file(f.dir + "/clean/" + file))
        << file;
}

// SC features (or any without a spatial grid): annotations as usual, no heat map drawn, and the
// output says why instead of faking one.
TEST(Annotate, FeaturesWithoutAMapSayThereIsNoHeatMap) {
  const auto dir = test::temp_dir("annotate-sc");
  Dataset ds = test::annotate_dataset();
  for (auto& image : ds.images) {
    image.path = dir + "/" + image.id + ".png";
    cv::imwrite(image.path, cv::Mat(64, 96, CV_8UC3, cv::Scalar(200, 210, 220)));
  }
  test::write_map_store(dir + "/sc.h5", ds, 4, 2.0,
                        {{"backbone", "sparse-coding"}, {"sc_dictionary_sha256", "d1"}});
  TrainParams tp;
  tp.folds = 0;
  tp.layers = {"map"};
  tp.fit.c_grid = {1.0};
  tp.fit.ensemble.models = 3;
  {
    const FeatureStoreReader store(dir + "/sc.h5");
    train_model(ds, store, tp, dir + "/m.h5");
  }
  const ModelBundle bundle = read_model_bundle(dir + "/m.h5");
  auto source = store_feature_source(dir + "/sc.h5");
  const auto s = annotate_images(ds, bundle, *source, {}, dir + "/out");
  EXPECT_GT(s.rows, 100);
  EXPECT_EQ(s.heatmaps, 0);
  EXPECT_NE(s.heatmap_note.find("SC features"), std::string::npos);
  EXPECT_TRUE(test::read_tsv(dir + "/out/heatmaps/index.tsv").empty());
  EXPECT_NE(read_text_file(dir + "/out/heatmaps/README.txt").find("No heat maps"),
            std::string::npos);
  const auto run = nlohmann::json::parse(read_text_file(dir + "/out/run.json"));
  EXPECT_EQ(run["heatmaps"]["available"], false);
  EXPECT_NE(run["heatmaps"]["reason"].get<std::string>().find("pyramid"), std::string::npos);
  // Features coded with another dictionary are refused.
  test::write_map_store(dir + "/sc2.h5", ds, 4, 2.0,
                        {{"backbone", "sparse-coding"}, {"sc_dictionary_sha256", "d2"}});
  auto other = store_feature_source(dir + "/sc2.h5");
  EXPECT_NE(test::error_text([&] {
              annotate_images(ds, bundle, *other, {}, dir + "/o2");
            }).find("sc_dictionary_sha256 is d2, the bundle needs d1"),
            std::string::npos);
}

// annotations.tsv's path names the image so that it can be found from anywhere (ishannot report
// reads it from another folder): absolute, even when the dataset listed it relative to the cwd.
TEST(Annotate, PathsAreAbsoluteWhenTheDatasetGaveThemRelative) {
  Fixture f("annotate-paths");
  Dataset input = f.ds;
  const fs::path cwd = fs::current_path();
  fs::current_path(f.dir);
  for (auto& image : input.images) image.path = image.id + ".png";  // relative to f.dir
  auto source = store_feature_source(f.dir + "/f.h5");
  AnnotateParams ap;
  ap.heatmap_terms = 0;
  annotate_images(input, f.bundle, *source, ap, "out");
  fs::current_path(cwd);
  const auto rows = test::read_tsv(f.dir + "/out/annotations.tsv");
  ASSERT_FALSE(rows.empty());
  for (const auto& row : rows) {
    const std::string expected = (fs::path(f.dir) / (row.at("image") + ".png")).string();
    EXPECT_EQ(row.at("path"), fs::path(expected).lexically_normal().string());
    EXPECT_TRUE(fs::exists(row.at("path"))) << row.at("path");
  }
}
