// The SC pipeline end to end on small generated images: layer shapes, pooling properties, blank
// images, the feature store written by write_sc_features, and `ishannot baseline` with the strict
// (training-genes) dictionary mode.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>

#include "ishannot/common/error.h"
#include "ishannot/features/feature_store.h"
#include "ishannot/sparse/dictionary.h"
#include "ishannot/sparse/sc_baseline.h"
#include "support/test_paths.h"

using namespace ishannot;

namespace {

// A 160x64 "embryo": an ellipse of tissue with random dark blobs of stain.
cv::Mat fake_embryo(uint64_t seed) {
  std::mt19937_64 rng(seed);
  cv::Mat m(64, 160, CV_8UC3, cv::Scalar(235, 240, 240));
  cv::ellipse(m, {80, 32}, {70, 26}, 0, 0, 360, cv::Scalar(170, 200, 215), cv::FILLED);
  std::uniform_int_distribution<int> x(20, 140), y(12, 52), r(3, 9);
  for (int i = 0; i < 12; ++i) {
    cv::circle(m, {x(rng), y(rng)}, r(rng), cv::Scalar(140, 60, 70), cv::FILLED);
  }
  return m;
}

ScBaselineParams small_params() {
  ScBaselineParams p;
  p.dictionary.atoms = 16;
  p.dictionary.batch_size = 32;
  p.descriptors_per_image = 60;
  return p;
}

std::vector<std::string> write_images(const std::string& dir, int n) {
  std::vector<std::string> paths;
  for (int i = 0; i < n; ++i) {
    paths.push_back(dir + "/img" + std::to_string(i) + ".png");
    EXPECT_TRUE(cv::imwrite(paths.back(), fake_embryo(i)));
  }
  return paths;
}

// The CLI: $ISHANNOT_BINARY, else `ishannot` next to this test executable (same build folder).
std::string cli_binary() {
  if (const char* b = std::getenv("ISHANNOT_BINARY")) return b;
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  const auto candidate = self.parent_path() / "ishannot";
  return std::filesystem::exists(candidate) ? candidate.string() : "";
}

}  // namespace

TEST(ScBaseline, EncoderShapesAndPoolingProperties) {
  const auto dir = test::temp_dir("sc-encoder");
  const auto paths = write_images(dir, 4);
  ScBaselineParams p = small_params();
  const Dictionary dict = learn_sc_dictionary(paths, p);
  ASSERT_EQ(dict.size(), 16);
  EXPECT_EQ(dict.provenance.at("training_images"), "4");
  p.pyramid.l2_normalise = false;
  const ScEncoder encoder(dict, p);
  EXPECT_EQ(encoder.dim(), 16 * 21);
  const auto layers = encoder.layers();
  ASSERT_EQ(layers.size(), 3u);
  EXPECT_EQ(layers[0].name, "sc_max");
  EXPECT_EQ(layers[1].name, "sc_avg");
  EXPECT_EQ(layers[2].name, "sc_sqrt");
  EXPECT_EQ(layers[0].shape, "21x16");
  const ScImageFeatures f = encoder.encode(fake_embryo(99));
  EXPECT_EQ(f.descriptors, 19 * 7);  // (159 - 12) / 8 + 1, (63 - 12) / 8 + 1
  EXPECT_GT(f.informative, 0);
  const auto& mx = f.pooled[0];
  const auto& avg = f.pooled[1];
  const auto& sq = f.pooled[2];
  for (int atom = 0; atom < 16; ++atom) {
    // Level 1 is the max over level 2's four cells (cells 1..4).
    float quad = 0;
    for (int cell = 1; cell <= 4; ++cell) quad = std::max(quad, mx[cell * 16 + atom]);
    EXPECT_EQ(mx[atom], quad) << atom;
    // mean <= root mean square <= max in every cell (power-mean inequality).
    for (int cell = 0; cell < 21; ++cell) {
      const size_t i = cell * 16 + atom;
      EXPECT_LE(avg[i], sq[i] * (1 + 1e-6f) + 1e-7f);
      EXPECT_LE(sq[i], mx[i] * (1 + 1e-6f) + 1e-7f);
    }
  }
}

TEST(ScBaseline, BlankImagesAreZeroAndReportedInTheStore) {
  const auto dir = test::temp_dir("sc-store");
  auto paths = write_images(dir, 3);
  const std::string blank = dir + "/blank.png";
  cv::imwrite(blank, cv::Mat(64, 160, CV_8UC3, cv::Scalar(240, 240, 240)));
  const ScBaselineParams p = small_params();
  const Dictionary dict = learn_sc_dictionary(paths, p);
  const ScEncoder encoder(dict, p);
  std::vector<ImageRecord> records;
  for (int i = 0; i < 3; ++i)
    records.push_back({"img" + std::to_string(i), paths[i], "g", "4-6", "", {}});
  records.insert(records.begin() + 1, ImageRecord{"blank", blank, "g", "4-6", "", {}});
  std::vector<std::string> lines;
  Reporter reporter;
  reporter.log = [&](const std::string& line) { lines.push_back(line); };
  const std::string store = dir + "/sc.h5";
  {
    FeatureStoreWriter writer(store, encoder.layers(), FeatureDtype::kFloat32, sc_attributes(p));
    const ScRunSummary summary = write_sc_features(records, encoder, writer, 2, reporter);
    writer.close();
    EXPECT_EQ(summary.written, 4);
    EXPECT_EQ(summary.blank_ids, std::vector<std::string>({"blank"}));
  }
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find(blank), std::string::npos);
  FeatureStoreReader reader(store);
  ASSERT_EQ(reader.rows(), 4);
  EXPECT_EQ(reader.ids()[1], "blank");
  EXPECT_EQ(reader.attributes().at("sc_coder"), "lasso");
  std::vector<float> rows(4 * encoder.dim());
  reader.read_rows("sc_max", 0, 4, rows.data());
  for (int64_t i = 0; i < encoder.dim(); ++i) EXPECT_EQ(rows[encoder.dim() + i], 0.0f);
  // Row 2 holds img1's features exactly (unit l2 norm, as pooled).
  const auto expected = encoder.encode(cv::imread(paths[1])).pooled[0];
  double norm2 = 0;
  for (int64_t i = 0; i < encoder.dim(); ++i) {
    EXPECT_EQ(rows[2 * encoder.dim() + i], expected[i]);
    norm2 += double(expected[i]) * expected[i];
  }
  EXPECT_NEAR(norm2, 1.0, 1e-5);
}

TEST(ScBaseline, BadInputThrows) {
  Dictionary wrong;
  wrong.atoms = Eigen::MatrixXf::Identity(8, 8);
  EXPECT_THROW(ScEncoder(wrong, ScBaselineParams{}), Error);
  ScBaselineParams p;
  p.poolings = {PoolingKind::kMax, PoolingKind::kMax};
  EXPECT_NE(p.check(), "");
  EXPECT_THROW(sample_sc_descriptors({}, ScBaselineParams{}), Error);
  EXPECT_THROW(sample_sc_descriptors({"/nonexistent/x.png"}, ScBaselineParams{}), Error);
  // An image smaller than the SIFT patch: the error names the file.
  const auto dir = test::temp_dir("sc-bad");
  const std::string tiny = dir + "/tiny.png";
  cv::imwrite(tiny, cv::Mat(8, 8, CV_8UC3, cv::Scalar(0, 0, 0)));
  try {
    sample_sc_descriptors({tiny}, ScBaselineParams{});
    ADD_FAILURE() << "no error for a tiny image";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(tiny), std::string::npos) << e.what();
  }
}

TEST(ScBaseline, CommandLineStrictModeUsesOnlyTrainingGenes) {
  const std::string binary = cli_binary();
  if (binary.empty()) GTEST_SKIP() << "the ishannot binary was not found";
  const auto dir = test::temp_dir("sc-cli");
  const auto paths = write_images(dir, 6);
  {
    std::ofstream csv(dir + "/images.csv");
    csv << "image,gene,stage_range,terms\n";
    for (int i = 0; i < 6; ++i) {
      csv << "img" << i << ".png,gene" << i % 3 << ",4-6," << (i % 2 ? "t1" : "t2") << "\n";
    }
    std::ofstream(dir + "/train.txt") << "gene0\ngene1\n";
  }
  const std::string cmd = std::string(binary) + " --quiet --threads 1 baseline --data " + dir +
                          "/images.csv --out " + dir + "/sc.h5 --atoms 16 --train-genes " + dir +
                          "/train.txt --pooling max,sqrt --pyramid 1,2";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const Dictionary dict = load_dictionary(dir + "/sc.dictionary.txt");
  EXPECT_EQ(dict.provenance.at("training_images"), "4");  // genes 0 and 1: images 0, 1, 3, 4
  FeatureStoreReader reader(dir + "/sc.h5");
  EXPECT_EQ(reader.rows(), 6);
  const auto layers = reader.layers();
  ASSERT_EQ(layers.size(), 2u);
  EXPECT_EQ(layers[0].dim, 16 * 5);
  EXPECT_NE(reader.attributes().at("sc_dictionary_scope").find("train.txt"), std::string::npos);
  // A dictionary learned on grey descriptors is refused for stain descriptors.
  const std::string mismatch = binary + " --quiet baseline --data " + dir + "/images.csv --out " +
                               dir + "/y.h5 --dictionary " + dir +
                               "/sc.dictionary.txt --channel stain 2> /dev/null";
  EXPECT_EQ(WEXITSTATUS(std::system(mismatch.c_str())), 1);
  // --fold k/K: the dictionary sees only the genes outside test fold k.
  const std::string fold = binary + " --quiet --threads 1 baseline --data " + dir +
                           "/images.csv --out " + dir + "/f.h5 --atoms 16 --stages 4-6 --fold 1/3";
  ASSERT_EQ(std::system(fold.c_str()), 0) << fold;
  EXPECT_EQ(load_dictionary(dir + "/f.dictionary.txt").provenance.at("training_images"), "4");
  // A missing gene list is a one-line error naming the file (exit 1).
  const std::string bad = std::string(binary) + " --quiet baseline --data " + dir +
                          "/images.csv --out " + dir + "/x.h5 --train-genes " + dir +
                          "/none.txt 2> " + dir + "/err.txt";
  EXPECT_EQ(WEXITSTATUS(std::system(bad.c_str())), 1);
  std::ifstream err(dir + "/err.txt");
  std::string line;
  std::getline(err, line);
  EXPECT_NE(line.find("none.txt"), std::string::npos) << line;
}

TEST(ScBaseline, ResumeContinuesAnInterruptedStore) {
  const auto dir = test::temp_dir("sc-resume");
  const auto paths = write_images(dir, 4);
  const ScBaselineParams p = small_params();
  const ScEncoder encoder(learn_sc_dictionary(paths, p), p);
  std::vector<ImageRecord> records;
  for (int i = 0; i < 4; ++i)
    records.push_back({"img" + std::to_string(i), paths[i], "g", "4-6", "", {}});
  const std::string store = dir + "/sc.h5";
  try {  // interrupted after two images: the writer keeps sc.h5.partial
    FeatureStoreWriter writer(store, encoder.layers(), FeatureDtype::kFloat32, sc_attributes(p));
    write_sc_features({records[0], records[1]}, encoder, writer, 1);
    throw std::runtime_error("killed");
  } catch (const std::runtime_error&) {
  }
  ASSERT_FALSE(std::filesystem::exists(store));
  FeatureStoreWriter writer(store, encoder.layers(), FeatureDtype::kFloat32, sc_attributes(p),
                            /*resume=*/true);
  const ScRunSummary summary = write_sc_features(records, encoder, writer, 3);
  writer.close();
  EXPECT_EQ(summary.resumed, 2);
  EXPECT_EQ(summary.written, 2);
  FeatureStoreReader reader(store);
  ASSERT_EQ(reader.rows(), 4);
  std::vector<float> row(encoder.dim());
  for (int i = 0; i < 4; ++i) {
    reader.read_rows("sc_sqrt", i, 1, row.data());
    EXPECT_EQ(row, encoder.encode(cv::imread(paths[i])).pooled[2]) << i;
  }
  // A store of other images cannot be resumed into.
  std::swap(records[0], records[1]);
  FeatureStoreWriter other(dir + "/o.h5", encoder.layers(), FeatureDtype::kFloat32, {});
  write_sc_features({records[1]}, encoder, other, 1);
  EXPECT_THROW(write_sc_features({records[0], records[1]}, encoder, other, 1), Error);
}
