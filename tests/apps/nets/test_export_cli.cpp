// `ishannot export` end to end on real BDGP images (../shared/data/bdgp-mini): a ResNet50 bundle
// trained through the CLI, exported; ONNX Runtime (npm onnxruntime-node, an independent runtime)
// runs model.onnx on the package's test input and on the same images annotate scored, and gives
// the package's test outputs and annotate's scores to within 2e-4 (float32 convolutions in two
// runtimes, summed in different orders; the scores lie in [0, 1]). The package passes the
// bioimage.io schema and SHA-256 check; the refusals of the issue (SC bundle, existing --out) are
// one line with the CLI's exit codes.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "ishannot/annotate/model_bundle.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/data/dataset.h"
#include "support/nets_support.h"
#include "support/onnx_support.h"
#include "support/test_util.h"

using namespace ishannot;
namespace fs = std::filesystem;

namespace {

constexpr double kTolerance = 2e-4;

// The ids of the package's test images, in test_input.npy's order (rdf.yaml's config).
std::vector<std::string> test_image_ids(const std::string& package) {
  const std::string out = package + ".ids.txt";
  test::run_status("python3 -c \"import yaml,sys; print('\\n'.join(yaml.safe_load(open('" +
                   package + "/rdf.yaml'))['config']['ishannot']['test_images']))\" > " + out);
  std::vector<std::string> ids;
  std::istringstream in(read_text_file(out));
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) ids.push_back(line);
  return ids;
}

std::vector<float> read_npy_floats(const std::string& path) {
  const std::string bytes = read_text_file(path);
  const size_t header =
      10 + static_cast<unsigned char>(bytes[8]) + 256 * static_cast<unsigned char>(bytes[9]);
  std::vector<float> v((bytes.size() - header) / 4);
  std::memcpy(v.data(), bytes.data() + header, v.size() * 4);
  return v;
}

}  // namespace

TEST(ExportCli, OnnxRuntimeGivesAnnotateScoresOnBdgpMini) {
  ISHANNOT_SKIP_WITHOUT_SHARED();
  ISHANNOT_SKIP_WITHOUT_WEIGHTS();
  ISHANNOT_SKIP_WITHOUT_ONNXRUNTIME();
  const std::string dir = test::temp_dir("export-cli");
  const std::string mini = test::shared_data_dir() + "/bdgp-mini";
  const std::string bin = test::ishannot_binary() + " --quiet ";
  // A small recipe: res3d of 160x64 images pooled to 2x4, stage range 13-16.
  ASSERT_EQ(test::run_status(bin + "train --data " + mini +
                             "/images.csv --stages 13-16 --layers "
                             "res3d --input-size 160x64 --pool avg:2x4 --folds 0 --c-grid 1 "
                             "--models 3 --out " +
                             dir + "/m.h5 2> " + dir + "/train.txt"),
            0)
      << read_text_file(dir + "/train.txt");
  const ModelBundle bundle = read_model_bundle(dir + "/m.h5");
  const auto& terms = bundle.stage("13-16")->terms;
  // Four 13-16 images in a folder: annotate them, export with them as the test images.
  const Dataset all = read_manifest(mini + "/images.csv");
  fs::create_directories(dir + "/new");
  for (const auto& image : all.images)
    if (image.stage_range == "13-16" &&
        std::distance(fs::directory_iterator(dir + "/new"), fs::directory_iterator()) < 4)
      fs::copy_file(image.path, dir + "/new/" + image.id + ".png");
  ASSERT_EQ(test::run_status(bin + "annotate --model " + dir + "/m.h5 --data " + dir +
                             "/new --stage 13-16 --heatmaps 0 --out " + dir + "/ann 2> " + dir +
                             "/a.txt"),
            0)
      << read_text_file(dir + "/a.txt");
  std::map<std::pair<std::string, std::string>, double> annotated;
  for (const auto& r : test::read_tsv(dir + "/ann/annotations.tsv"))
    annotated[{r.at("image"), r.at("term")}] = std::stod(r.at("score"));
  ASSERT_EQ(test::run_status(bin + "export --model " + dir + "/m.h5 --data " + dir + "/new --out " +
                             dir + "/pkg 2> " + dir + "/e.txt"),
            0)
      << read_text_file(dir + "/e.txt");
  std::string report;
  EXPECT_EQ(test::check_package(dir + "/pkg", &report), 0) << report;

  std::string error;
  const auto out = test::run_onnx(dir + "/pkg/model.onnx", dir + "/pkg/test_input.npy", &error);
  ASSERT_TRUE(error.empty()) << error;
  const auto& scores = out.at("scores_13_16");
  const auto expected = read_npy_floats(dir + "/pkg/test_output_13-16.npy");
  const auto ids = test_image_ids(dir + "/pkg");
  ASSERT_EQ(ids.size(), 4u);
  ASSERT_EQ(scores.second.size(), 4 * terms.size());
  double worst = 0;
  for (size_t i = 0; i < ids.size(); ++i)
    for (size_t t = 0; t < terms.size(); ++t) {
      const double onnx = scores.second[i * terms.size() + t];
      EXPECT_NEAR(onnx, expected[i * terms.size() + t], kTolerance) << ids[i] << " " << t;
      EXPECT_NEAR(onnx, annotated.at({ids[i], terms[t].term}), kTolerance) << ids[i];
      worst = std::max(worst, std::abs(onnx - annotated.at({ids[i], terms[t].term})));
    }
  std::cerr << "largest |ONNX Runtime - annotate| score difference: " << worst << "\n";

  // An existing --out: refused (usage, exit 2) unless --force.
  EXPECT_EQ(test::run_status(bin + "export --model " + dir + "/m.h5 --out " + dir + "/pkg 2> " +
                             dir + "/again.txt"),
            2);
  EXPECT_NE(read_text_file(dir + "/again.txt").find("already exists"), std::string::npos);
}

TEST(ExportCli, ScBundleIsRefusedWithTheReason) {
  const std::string dir = test::temp_dir("export-sc");
  ModelBundle b;
  b.recipe.attributes = {{"backbone", "sparse-coding"}, {"pooling", "none"}};
  b.recipe.layers = {{"sc_max", 4, "4"}};
  b.models = 1;
  b.vote_threshold = 1;
  b.attributes = {{"train_fingerprint", "fp"}};
  {
    ModelBundleWriter w(dir + "/sc.h5", b, false);
    StageModel s;
    s.stage_range = "13-16";
    s.weights.resize(1, 4);
    s.weights.setZero();
    TermModel t;
    t.term = "gut";
    t.bias = {0};
    s.terms.push_back(t);
    w.add_stage(s);
    w.close();
  }
  EXPECT_EQ(test::run_status(test::ishannot_binary() + " export --model " + dir + "/sc.h5 --out " +
                             dir + "/pkg 2> " + dir + "/err.txt"),
            1);
  const std::string err = read_text_file(dir + "/err.txt");
  EXPECT_NE(err.find("sc.h5: cannot be exported to ONNX"), std::string::npos) << err;
  EXPECT_NE(err.find("dense SIFT"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_FALSE(fs::exists(dir + "/pkg"));
}
