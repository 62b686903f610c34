// Issue 22 against annotate (library level): image ids with a tab, a newline or a '/' keep every
// TSV whole and every heat map inside heatmaps/ (the report reads the folder back); a resumed run
// is byte-identical to an uninterrupted one, contact sheets included; a new run over an earlier
// run's folder leaves none of its heat maps or sheets (the user's own files stay); an interrupted
// run of other options is an error naming --restart. References: the report's reader, a clean run.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "ishannot/annotate/annotate.h"
#include "ishannot/annotate/train.h"
#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/report/run_outputs.h"
#include "support/annotate_support.h"
#include "support/test_paths.h"
#include "support/test_util.h"

using namespace ishannot;
namespace fs = std::filesystem;

namespace {

// A bundle trained on the annotate dataset (with `rename` applied to its ids) and image files.
struct Fixture {
  std::string dir;
  Dataset ds;
  ModelBundle bundle;
  explicit Fixture(const std::string& name,
                   const std::function<std::string(const ImageRecord&)>& rename = {})
      : dir(test::temp_dir(name)) {
    ds = test::annotate_dataset();
    int k = 0;
    for (auto& image : ds.images) {
      if (rename) image.id = rename(image);
      image.path = dir + "/img" + std::to_string(k++) + ".png";
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

// Every regular file under `root`, relative path -> bytes.
std::map<std::string, std::string> files_under(const std::string& root) {
  std::map<std::string, std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(root))
    if (entry.is_regular_file())
      out[fs::relative(entry.path(), root).string()] = read_text_file(entry.path().string());
  return out;
}

}  // namespace

// Item 9: a tab in an image name corrupted heatmaps/index.tsv and report refused the whole run.
TEST(AnnotateFaults, HostileImageNamesKeepEveryTsvWholeAndHeatMapsInside) {
  // Every 13-16 image named with a tab and a newline, every 4-6 image with "../../".
  Fixture f("annotate-hostile", [](const ImageRecord& image) {
    return image.stage_range == "13-16" ? "tab\t" + image.id + "\nline" : "../../" + image.id;
  });
  AnnotateParams ap;
  ap.heatmap_terms = 4;
  auto source = store_feature_source(f.dir + "/f.h5");
  annotate_images(f.ds, f.bundle, *source, ap, f.dir + "/out");
  const AnnotationRun run = read_annotation_run(f.dir + "/out");  // the report's reader
  size_t rows = 0;
  for (const auto& image : f.ds.images) rows += f.bundle.stage(image.stage_range)->terms.size();
  EXPECT_EQ(run.annotations.size(), rows);
  EXPECT_EQ(run.annotations.front().image.find('\t'), std::string::npos);
  ASSERT_GT(run.heatmaps.size(), 20u);
  for (const auto& h : run.heatmaps) {
    EXPECT_TRUE(fs::is_regular_file(h.file)) << h.file;
    EXPECT_EQ(fs::path(h.file).parent_path().parent_path(), fs::path(f.dir + "/out/heatmaps"))
        << h.file;
  }
  for (const auto& entry : fs::recursive_directory_iterator(f.dir))
    EXPECT_EQ(entry.path().string().find(f.dir + "/13-16_"), std::string::npos) << entry.path();
}

// Low: a resumed run's contact sheets lost the gene names (rebuilt from ids): not byte-identical.
// The resumed sheets' thumbnails are cut from the heat-map PNGs (their overlay corner) and
// scaled as the live run scales its overlays.
TEST(AnnotateFaults, AResumedRunIsByteIdenticalContactSheetsIncluded) {
  Fixture f("annotate-resume-bytes");
  AnnotateParams ap;
  ap.batch = 10;
  auto clean = store_feature_source(f.dir + "/f.h5");
  annotate_images(f.ds, f.bundle, *clean, ap, f.dir + "/clean");
  Failing failing(store_feature_source(f.dir + "/f.h5"), 5);
  EXPECT_THROW(annotate_images(f.ds, f.bundle, failing, ap, f.dir + "/killed"), Error);
  auto again = store_feature_source(f.dir + "/f.h5");
  annotate_images(f.ds, f.bundle, *again, ap, f.dir + "/killed");
  const auto a = files_under(f.dir + "/clean/heatmaps"),
             b = files_under(f.dir + "/killed/heatmaps");
  ASSERT_EQ(a.size(), b.size());
  int sheets = 0;
  for (const auto& [name, bytes] : a) {
    ASSERT_TRUE(b.count(name)) << name;
    EXPECT_TRUE(b.at(name) == bytes) << name << " differs";
    sheets += name.rfind("sheet_", 0) == 0;
  }
  EXPECT_GE(sheets, 3);
}

// Low: annotate over an earlier annotate's folder left its heat maps and sheets (a mixed folder).
TEST(AnnotateFaults, ANewRunRemovesAnEarlierRunsHeatMapsButNotTheUsersFiles) {
  Fixture f("annotate-mixed");
  AnnotateParams ap;
  auto source = store_feature_source(f.dir + "/f.h5");
  annotate_images(f.ds, f.bundle, *source, ap, f.dir + "/out");
  int maps = 0;
  for (const auto& [name, bytes] : files_under(f.dir + "/out/heatmaps"))
    maps += fs::path(name).extension() == ".png";
  ASSERT_GT(maps, 10);
  std::ofstream(f.dir + "/out/my notes.txt") << "mine";
  std::ofstream(f.dir + "/out/heatmaps/my figure.png") << "mine too";
  ap.heatmap_terms = 0;
  auto again = store_feature_source(f.dir + "/f.h5");
  annotate_images(f.ds, f.bundle, *again, ap, f.dir + "/out");
  for (const auto& [name, bytes] : files_under(f.dir + "/out/heatmaps"))
    EXPECT_TRUE(name == "index.tsv" || name == "my figure.png") << name << " left by the first run";
  EXPECT_EQ(read_text_file(f.dir + "/out/my notes.txt"), "mine");
  EXPECT_EQ(read_annotation_run(f.dir + "/out").heatmaps.size(), 0u);
}

// Low: an interrupted run of other options was silently discarded; now an error naming --restart.
TEST(AnnotateFaults, AnInterruptedRunOfOtherOptionsIsAnErrorNamingRestart) {
  Fixture f("annotate-incompatible");
  AnnotateParams ap;
  ap.batch = 10;
  Failing failing(store_feature_source(f.dir + "/f.h5"), 3);
  EXPECT_THROW(annotate_images(f.ds, f.bundle, failing, ap, f.dir + "/out"), Error);
  const std::string progress = read_text_file(f.dir + "/out/annotate.progress");
  ap.heatmap_terms = 1;
  auto source = store_feature_source(f.dir + "/f.h5");
  const std::string message =
      test::error_text([&] { annotate_images(f.ds, f.bundle, *source, ap, f.dir + "/out"); });
  EXPECT_NE(message.find("--restart"), std::string::npos) << message;
  EXPECT_EQ(message.find(f.dir + "/out/annotate.progress"), 0u) << message;
  EXPECT_EQ(read_text_file(f.dir + "/out/annotate.progress"), progress);
  ap.resume = false;  // --restart
  EXPECT_EQ(test::error_text([&] { annotate_images(f.ds, f.bundle, *source, ap, f.dir + "/out"); }),
            "");
}

// Low: annotate --features accepted a same-recipe store of another dataset whose ids collide.
TEST(AnnotateFaults, AStoreOfAnotherDatasetWithCollidingIdsIsRefused) {
  Fixture f("annotate-colliding");
  const std::string store = f.dir + "/genes.h5";
  test::write_map_store(store, f.ds, 9, 2.0, {}, FeatureDtype::kFloat32, true);
  Dataset other = f.ds;
  for (auto& image : other.images) image.gene = "x" + image.gene;
  auto source = store_feature_source(store);
  const std::string message = test::error_text(
      [&] { annotate_images(other, f.bundle, *source, AnnotateParams(), f.dir + "/out"); });
  EXPECT_EQ(message.find(store + ": holds " + std::to_string(other.images.size()) +
                         " of these image ids with another gene"),
            0u)
      << message;
  EXPECT_FALSE(fs::exists(f.dir + "/out/annotations.tsv"));
  auto same = store_feature_source(store);
  EXPECT_EQ(test::error_text(
                [&] { annotate_images(f.ds, f.bundle, *same, AnnotateParams(), f.dir + "/ok"); }),
            "");
}
