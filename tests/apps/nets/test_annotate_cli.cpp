// train -> annotate through the CLI on real BDGP images (../shared/data/bdgp-mini): features
// computed by train with the default recipe (through libtorch), annotate on a folder (features on
// the fly without libtorch, a corrupt file skipped) and on the manifest with the stored features
// (the same scores); the bad inputs of the issue as one-line errors with exit code 1 (2 for usage),
// nothing half-written.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "ishannot/annotate/model_bundle.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/data/dataset.h"
#include "support/nets_support.h"
#include "support/test_util.h"

using namespace ishannot;
namespace fs = std::filesystem;

namespace {

int run(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST(AnnotateCli, TrainAndAnnotateRealBdgpMini) {
  ISHANNOT_SKIP_WITHOUT_SHARED();
  ISHANNOT_SKIP_WITHOUT_WEIGHTS();
  const std::string dir = test::temp_dir("annotate-cli");
  const std::string mini = test::shared_data_dir() + "/bdgp-mini";
  const std::string bin = test::ishannot_binary() + " --quiet ";
  // Default recipe (ResNet50 res4f, native input, grid-pooled), small protocol.
  ASSERT_EQ(run(bin + "train --data " + mini + "/images.csv --out " + dir +
                "/m.h5 --folds 3 --c-grid 1 --models 3 --keep-features 2> " + dir + "/train.txt"),
            0)
      << read_text_file(dir + "/train.txt");
  const ModelBundle bundle = read_model_bundle(dir + "/m.h5");
  EXPECT_EQ(bundle.recipe.attributes.at("backbone"), "resnet50");
  EXPECT_EQ(bundle.recipe.layers.at(0).name, "res4f");
  EXPECT_EQ(bundle.recipe.attributes.at("input_size"), "320x128");
  ASSERT_NE(bundle.stage("13-16"), nullptr);
  EXPECT_TRUE(fs::exists(dir + "/m.h5.features.h5"));
  EXPECT_FALSE(fs::exists(dir + "/m.h5.partial"));

  // A folder of new images: six 13-16 images and a corrupt file.
  const Dataset all = read_manifest(mini + "/images.csv");
  fs::create_directories(dir + "/new");
  std::vector<std::string> ids;
  for (const auto& image : all.images)
    if (image.stage_range == "13-16" && ids.size() < 6) {
      fs::copy_file(image.path, dir + "/new/" + image.id + ".png");
      ids.push_back(image.id);
    }
  std::ofstream(dir + "/new/broken.png") << "not a png";
  // On the fly without libtorch: train's run wrote the prepared weights, so annotate never loads
  // the CNN module (pointed at a missing file here).
  ASSERT_EQ(
      run("ISHANNOT_CNN_MODULE=/nonexistent/module.so " + bin + "annotate --model " + dir +
          "/m.h5 --data " + dir + "/new --stage 13-16 --out " + dir + "/out 2> " + dir + "/a.txt"),
      0)
      << read_text_file(dir + "/a.txt");
  const auto rows = test::read_tsv(dir + "/out/annotations.tsv");
  EXPECT_EQ(rows.size(), 6 * bundle.stage("13-16")->terms.size());
  EXPECT_NE(read_text_file(dir + "/out/skipped.tsv").find("broken.png"), std::string::npos);
  EXPECT_TRUE(fs::exists(dir + "/out/groups.tsv"));
  EXPECT_TRUE(fs::exists(dir + "/out/heatmaps/index.tsv"));
  const auto run_json = nlohmann::json::parse(read_text_file(dir + "/out/run.json"));
  EXPECT_EQ(run_json["counts"]["images"], 6);
  EXPECT_EQ(run_json["heatmaps"]["available"], true);

  // The same images through the stored features (the manifest): the same scores.
  ASSERT_EQ(run(bin + "annotate --model " + dir + "/m.h5 --data " + mini +
                "/images.csv --stages 13-16 --features " + dir +
                "/m.h5.features.h5 --heatmaps 0 --out " + dir + "/stored 2> " + dir + "/s.txt"),
            0)
      << read_text_file(dir + "/s.txt");
  std::map<std::pair<std::string, std::string>, double> stored;
  for (const auto& r : test::read_tsv(dir + "/stored/annotations.tsv"))
    stored[{r.at("image"), r.at("term")}] = std::stod(r.at("score"));
  EXPECT_EQ(stored.size(), test::read_tsv(dir + "/stored/annotations.tsv").size());
  for (const auto& r : rows)
    EXPECT_NEAR(std::stod(r.at("score")), stored.at({r.at("image"), r.at("term")}), 1e-4);

  // Agreement with evaluate through the CLI: train --fold 0/3 + annotate on fold 0's images give
  // evaluate's out-of-fold scores (same features, C fixed).
  const std::string protocol = " --folds 3 --c-grid 1 --models 3 --stages 13-16";
  ASSERT_EQ(run(bin + "evaluate --data " + mini + "/images.csv --features " + dir +
                "/m.h5.features.h5" + protocol + " --out " + dir + "/eval > /dev/null"),
            0);
  ASSERT_EQ(
      run(bin + "train --data " + mini + "/images.csv --features " + dir + "/m.h5.features.h5" +
          protocol + " --fold 0/3 --out " + dir + "/f0.h5 2> /dev/null"),
      0);
  ASSERT_EQ(run(bin + "annotate --model " + dir + "/f0.h5 --data " + mini +
                "/images.csv --stages 13-16 --features " + dir +
                "/m.h5.features.h5 --heatmaps 0 --out " + dir + "/f0 2> /dev/null"),
            0);
  std::map<std::pair<std::string, std::string>, double> fold0;
  for (const auto& r : test::read_tsv(dir + "/f0/annotations.tsv"))
    fold0[{r.at("image"), r.at("term")}] = std::stod(r.at("score"));
  int agreed = 0;
  for (const auto& p : test::read_tsv(dir + "/eval/predictions.tsv")) {
    if (p.at("fold") != "0") continue;
    const auto it = fold0.find({p.at("id"), p.at("term")});
    if (it == fold0.end()) continue;  // a term the fold's training genes cannot train
    EXPECT_NEAR(it->second, std::stod(p.at("score")), 1e-6) << p.at("id") << " " << p.at("term");
    ++agreed;
  }
  EXPECT_GT(agreed, 5);

  // Bad input: one line naming the file, exit 1; usage errors exit 2.
  auto fails = [&](const std::string& args, int code, const std::string& needle) {
    const int rc = run(bin + args + " 2> " + dir + "/err.txt");
    const std::string err = read_text_file(dir + "/err.txt");
    EXPECT_EQ(rc, code) << args << "\n" << err;
    EXPECT_NE(err.find(needle), std::string::npos) << err;
    if (code == 1) {
      // One error line (annotate's stage-source lines and warnings may precede it).
      size_t errors = 0;
      for (size_t at = err.find("ishannot: error:"); at != std::string::npos;
           at = err.find("ishannot: error:", at + 1))
        ++errors;
      EXPECT_EQ(errors, 1u) << err;
    }
  };
  const std::string a = "annotate --out " + dir + "/bad ";
  fails(a + "--model " + dir + "/m.h5.features.h5 --data " + dir + "/new --stage 13-16", 1,
        "this is a feature store, not a model bundle");
  fs::create_directories(dir + "/empty");
  fails(a + "--model " + dir + "/m.h5 --data " + dir + "/empty --stage 13-16", 1, "no image files");
  fails(a + "--model " + dir + "/m.h5 --data " + dir + "/new", 1, "give --stage");
  fails(a + "--model " + dir + "/m.h5 --data " + dir + "/new --stage 1-3", 1,
        "it has 4-6, 7-8, 9-10, 11-12, 13-16");
  fs::create_directories(dir + "/one");
  fs::copy_file(dir + "/new/" + ids[0] + ".png", dir + "/one/" + ids[0] + ".png");
  ASSERT_EQ(run(bin + "extract --data " + dir +
                "/one --layers res4f --input-size native --pool 2x2 --out " + dir + "/p.h5"),
            0);
  fails(a + "--model " + dir + "/m.h5 --data " + dir + "/new --stage 13-16 --features " + dir +
            "/p.h5",
        1, "pooling is avg:2x2, the bundle needs");
  fs::copy_file(dir + "/m.h5", dir + "/cut.h5");
  test::truncate_file(dir + "/cut.h5", fs::file_size(dir + "/m.h5") / 3);
  fails(a + "--model " + dir + "/cut.h5 --data " + dir + "/new --stage 13-16", 1, "cut.h5");
  fails(a + "--model " + dir + "/m.h5 --data " + dir + "/new --stage 13-16 --heatmaps x", 2,
        "--heatmaps");
  EXPECT_FALSE(fs::exists(dir + "/bad/annotations.tsv"));
}
