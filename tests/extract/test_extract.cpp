// Feature extraction: rows equal the backbone's own maps flattened in (C,H,W) order (pooled by
// hand where asked); an undecodable image is skipped and listed (OUT.skipped.tsv, the store's
// skipped_images attribute), or with --strict stops the run without publishing a file, and a
// rerun resumes to the same result as an uninterrupted run. Real data: ../shared/data/bdgp-mini
// via the CLI.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include <opencv2/imgcodecs.hpp>

#include "ishannot/common/error.h"
#include "ishannot/image/image.h"
#include "ishannot/nets/backbone.h"
#include "ishannot/nets/extract.h"
#include "ishannot/nets/inference.h"
#include "support/nets_support.h"

using namespace ishannot;

namespace {

std::string make_images(const std::string& dir, int n) {
  std::filesystem::create_directories(dir + "/images");
  cv::RNG rng(5);
  for (int i = 0; i < n; ++i) {
    cv::Mat img(128, 320, CV_8UC3);
    rng.fill(img, cv::RNG::UNIFORM, 0, 255);
    cv::imwrite(dir + "/images/img" + std::to_string(i) + ".png", img);
  }
  return dir + "/images";
}

std::vector<float> read_all(const FeatureStoreReader& r, const std::string& layer) {
  std::vector<float> v(static_cast<size_t>(r.rows() * r.dim(layer)));
  r.read_rows(layer, 0, r.rows(), v.data());
  return v;
}

}  // namespace

TEST(Extract, RowsAreFlattenedAndPooledMaps) {
  ISHANNOT_SKIP_WITHOUT_WEIGHTS();
  const std::string dir = test::temp_dir("extract-rows");
  const Dataset data = read_image_folder(make_images(dir, 2));
  auto net = load_backbone("resnet50", "");
  ExtractParams p;
  p.layers = "pool1,res2a";
  p.batch = 2;
  extract_features(data, *net, p, dir + "/flat.h5");
  p.pool = parse_pool_grid("2x2");
  extract_features(data, *net, p, dir + "/pooled.h5");

  torch::InferenceMode guard;
  std::vector<cv::Mat> images;
  for (const auto& r : data.images)
    images.push_back(resize_for_network(read_image_bgr(r.path), 224, 224, ResizePolicy::kSquash));
  const auto taps = net->resolve_layers("pool1,res2a");
  // The reference is the torch path (independent of the oneDNN engine extract runs): the rows'
  // layout is what is tested here, the values to the engine's float rounding.
  auto maps = net->forward_taps(net->to_input(images), taps);
  FeatureStoreReader flat(dir + "/flat.h5"), pooled(dir + "/pooled.h5");
  ASSERT_EQ(flat.ids(), std::vector<std::string>({"img0", "img1"}));
  const torch::Tensor res2a = maps.at(taps[1]);  // 2 x 256 x 56 x 56
  ASSERT_EQ(flat.dim("res2a"), 256 * 56 * 56);
  const auto rows = read_all(flat, "res2a");
  const auto a = res2a.accessor<float, 4>();
  const double scale = res2a.abs().max().item<double>();
  for (int n = 0; n < 2; ++n)
    for (int c : {0, 17, 255})
      for (int y : {0, 31, 55})
        for (int x : {0, 9, 55}) {
          ASSERT_NEAR(rows[static_cast<size_t>(n) * 256 * 3136 + c * 3136 + y * 56 + x],
                      a[n][c][y][x], 1e-5 * scale);
        }
  ASSERT_EQ(pooled.dim("res2a"), 256 * 4);
  const auto prow = read_all(pooled, "res2a");
  for (int c : {3, 200})
    for (int gy = 0; gy < 2; ++gy)
      for (int gx = 0; gx < 2; ++gx) {
        double sum = 0;
        for (int y = 28 * gy; y < 28 * (gy + 1); ++y)
          for (int x = 28 * gx; x < 28 * (gx + 1); ++x) sum += a[1][c][y][x];
        EXPECT_NEAR(prow[256 * 4 + c * 4 + gy * 2 + gx], sum / (28 * 28), 1e-4);
      }
}

TEST(Extract, StrictBadImageStopsAndRerunResumesToTheSameResult) {
  ISHANNOT_SKIP_WITHOUT_WEIGHTS();
  const std::string dir = test::temp_dir("extract-resume");
  const std::string folder = make_images(dir, 6);
  const std::string bad = folder + "/img3.png";
  const std::string good_bytes = read_text_file(bad);
  std::ofstream(bad, std::ios::trunc) << "not an image";
  const Dataset data = read_image_folder(folder);
  auto net = load_backbone("resnet50", "");
  ExtractParams p;
  p.layers = "res2a";
  p.batch = 2;
  p.pool = parse_pool_grid("4x4");
  p.dtype = FeatureDtype::kFloat16;
  p.strict = true;
  std::string message;
  try {
    extract_features(data, *net, p, dir + "/out.h5");
  } catch (const Error& e) {
    message = e.what();
  }
  EXPECT_NE(message.find(bad), std::string::npos) << message;
  EXPECT_FALSE(std::filesystem::exists(dir + "/out.h5"));  // nothing published as if complete
  ASSERT_TRUE(std::filesystem::exists(dir + "/out.h5.partial"));

  std::ofstream(bad, std::ios::binary | std::ios::trunc) << good_bytes;
  const ExtractResult resumed = extract_features(data, *net, p, dir + "/out.h5");
  EXPECT_EQ(resumed.already_present, 2);
  EXPECT_EQ(resumed.written, 4);
  p.resume = false;
  extract_features(data, *net, p, dir + "/fresh.h5");
  FeatureStoreReader a(dir + "/out.h5"), b(dir + "/fresh.h5");
  EXPECT_EQ(a.ids(), b.ids());
  EXPECT_EQ(read_all(a, "res2a"), read_all(b, "res2a"));
  EXPECT_EQ(a.attributes().at("backbone"), "resnet50");
  EXPECT_EQ(a.attributes().at("weights_sha256").size(), 64u);
}

TEST(Extract, UndecodableImageIsSkippedAndListed) {
  ISHANNOT_SKIP_WITHOUT_WEIGHTS();
  const std::string dir = test::temp_dir("extract-skip");
  const std::string folder = make_images(dir, 5);
  const std::string bad = folder + "/img2.png";
  std::ofstream(bad, std::ios::trunc) << "not an image";
  const std::string out = dir + "/out.h5";
  const std::string base = test::ishannot_binary() + " --quiet extract --data " + folder +
                           " --layers res2a --pool 2x2 --batch 2 --out ";
  // Default: the other 4 rows are written, the bad file is listed, exit 0.
  ASSERT_EQ(std::system((base + out).c_str()), 0);
  FeatureStoreReader r(out);
  EXPECT_EQ(r.ids(), std::vector<std::string>({"img0", "img1", "img3", "img4"}));
  const std::string list = read_text_file(out + ".skipped.tsv");
  EXPECT_EQ(list.rfind("file\treason\n", 0), 0u) << list;
  EXPECT_NE(list.find(bad + "\t"), std::string::npos) << list;
  EXPECT_EQ(std::count(list.begin(), list.end(), '\n'), 2) << list;
  EXPECT_EQ(r.attributes().at("skipped_images"), list);
  // Rows equal those of a run without the bad image (the batches were refilled, not shifted).
  std::filesystem::remove(bad);
  ASSERT_EQ(std::system((base + dir + "/clean.h5").c_str()), 0);
  FeatureStoreReader clean(dir + "/clean.h5");
  EXPECT_EQ(read_all(r, "res2a"), read_all(clean, "res2a"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/clean.h5.skipped.tsv"));

  // --strict: exit 1, one line naming the file, nothing published.
  std::ofstream(bad, std::ios::trunc) << "not an image";
  const std::string strict = test::ishannot_binary() + " --quiet extract --strict --data " +
                             folder + " --layers res2a --out " + dir + "/strict.h5 2>" + dir +
                             "/err.txt";
  EXPECT_EQ(WEXITSTATUS(std::system(strict.c_str())), 1);
  const std::string err = read_text_file(dir + "/err.txt");
  EXPECT_NE(err.find(bad), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_FALSE(std::filesystem::exists(dir + "/strict.h5"));
}

TEST(Extract, RealBdgpMiniThroughTheCli) {
  ISHANNOT_SKIP_WITHOUT_SHARED();
  ISHANNOT_SKIP_WITHOUT_WEIGHTS();
  const std::string dir = test::temp_dir("extract-bdgp");
  const std::string manifest = test::shared_data_dir() + "/bdgp-mini/images.csv";
  const std::string cmd = test::ishannot_binary() + " --quiet extract --data " + manifest +
                          " --out " + dir +
                          "/mini.h5 --layers res2c,res3a --pool max:2x2 --batch 16";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  FeatureStoreReader r(dir + "/mini.h5");
  const Dataset data = read_manifest(manifest);
  ASSERT_EQ(r.rows(), 193);
  for (size_t i = 0; i < data.images.size(); ++i) EXPECT_EQ(r.ids()[i], data.images[i].id);
  EXPECT_EQ(r.dim("res2c"), 256 * 4);
  EXPECT_EQ(r.dim("res3a"), 512 * 4);
  EXPECT_EQ(r.attributes().at("pooling"), "max:2x2");
  // A missing image in a manifest: one line naming it, exit 1, no output.
  std::ofstream(dir + "/bad.csv") << "image,gene,stage_range,terms\n"
                                  << dir << "/nope.png,g,4-6,\n";
  const std::string bad = test::ishannot_binary() + " --quiet extract --data " + dir +
                          "/bad.csv --out " + dir + "/bad.h5 2>" + dir + "/err.txt";
  EXPECT_EQ(WEXITSTATUS(std::system(bad.c_str())), 1);
  const std::string err = read_text_file(dir + "/err.txt");
  EXPECT_NE(err.find("nope.png"), std::string::npos) << err;
  EXPECT_FALSE(std::filesystem::exists(dir + "/bad.h5"));
}
