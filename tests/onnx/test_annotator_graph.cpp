// The annotator graph (onnx/annotator_graph.h) on a tiny hand-made network and bundle, run by ONNX
// Runtime (npm onnxruntime-node) and compared with a naive double-precision forward pass written
// here (loops; torch's adaptive-pooling cell rule worked by hand); then the package
// (onnx/model_package.h) checked against the bioimage.io schema and its SHA-256s by
// tests/onnx/check_rdf.py.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "ishannot/common/error.h"
#include "ishannot/features/pool_grid.h"
#include "ishannot/onnx/annotator_graph.h"
#include "ishannot/onnx/model_package.h"
#include "support/onnx_support.h"
#include "support/test_util.h"

namespace ishannot {
namespace {

struct Map {  // C x H x W, doubles
  int c = 0, h = 0, w = 0;
  std::vector<double> v;
  double& at(int k, int i, int j) { return v[(static_cast<size_t>(k) * h + i) * w + j]; }
  double at(int k, int i, int j) const { return v[(static_cast<size_t>(k) * h + i) * w + j]; }
};

Map conv(const Map& x, const ExportConv& cv) {
  const int o = int(cv.dims[0]), kh = int(cv.dims[2]), kw = int(cv.dims[3]);
  const int s = cv.stride, p = cv.padding;
  Map y{o, (x.h + 2 * p - kh) / s + 1, (x.w + 2 * p - kw) / s + 1, {}};
  y.v.assign(static_cast<size_t>(y.c) * y.h * y.w, 0.0);
  for (int k = 0; k < o; ++k)
    for (int i = 0; i < y.h; ++i)
      for (int j = 0; j < y.w; ++j) {
        double sum = cv.bias[k];
        for (int c = 0; c < x.c; ++c)
          for (int a = 0; a < kh; ++a)
            for (int b = 0; b < kw; ++b) {
              const int r = i * s - p + a, q = j * s - p + b;
              if (r >= 0 && r < x.h && q >= 0 && q < x.w)
                sum += x.at(c, r, q) *
                       cv.weight[((static_cast<size_t>(k) * x.c + c) * kh + a) * kw + b];
            }
        y.at(k, i, j) = cv.relu ? std::max(0.0, sum) : sum;
      }
  return y;
}

Map maxpool(const Map& x, int k, int s, int p) {
  Map y{x.c, (x.h + 2 * p - k) / s + 1, (x.w + 2 * p - k) / s + 1, {}};
  y.v.assign(static_cast<size_t>(y.c) * y.h * y.w, -1e300);
  for (int c = 0; c < x.c; ++c)
    for (int i = 0; i < y.h; ++i)
      for (int j = 0; j < y.w; ++j)
        for (int a = 0; a < k; ++a)
          for (int b = 0; b < k; ++b) {
            const int r = i * s - p + a, q = j * s - p + b;
            if (r >= 0 && r < x.h && q >= 0 && q < x.w)
              y.at(c, i, j) = std::max(y.at(c, i, j), x.at(c, r, q));
          }
  return y;
}

Map bottleneck(const Map& x, const ExportStage& s) {
  Map y = conv(conv(conv(x, s.block[0]), s.block[1]), s.block[2]);
  const Map shortcut = s.block[3].empty() ? x : conv(x, s.block[3]);
  for (size_t i = 0; i < y.v.size(); ++i) y.v[i] = std::max(0.0, y.v[i] + shortcut.v[i]);
  return y;
}

// Cells by hand: H = 3 rows into 2 -> rows {0, 1} and {1, 2}; W = 4 columns into 2 -> {0, 1},
// {2, 3}; into 3 -> {0, 1}, {1, 2}, {2, 3} (start floor(i*n/g), end ceil((i+1)*n/g)).
std::vector<double> pool(const Map& x, int gh, int gw, bool max) {
  std::vector<double> out;
  for (int c = 0; c < x.c; ++c)
    for (int i = 0; i < gh; ++i)
      for (int j = 0; j < gw; ++j) {
        const int r0 = i * x.h / gh, r1 = ((i + 1) * x.h + gh - 1) / gh;
        const int c0 = j * x.w / gw, c1 = ((j + 1) * x.w + gw - 1) / gw;
        double acc = max ? -1e300 : 0.0;
        for (int r = r0; r < r1; ++r)
          for (int q = c0; q < c1; ++q)
            acc = max ? std::max(acc, x.at(c, r, q)) : acc + x.at(c, r, q);
        out.push_back(max ? acc : acc / ((r1 - r0) * (c1 - c0)));
      }
  return out;
}

ExportConv random_conv(std::mt19937& rng, int out, int in, int k, int stride, int pad, bool relu) {
  std::normal_distribution<float> n(0.0f, 0.3f);
  ExportConv c;
  c.dims = {out, in, k, k};
  for (int i = 0; i < out * in * k * k; ++i) c.weight.push_back(n(rng));
  for (int i = 0; i < out; ++i) c.bias.push_back(n(rng));
  c.stride = stride;
  c.padding = pad;
  c.relu = relu;
  return c;
}

ExportStage make_stage(const std::string& name, ExportStage::Kind kind) {
  ExportStage s;
  s.name = name;
  s.kind = kind;
  return s;
}

struct Fixture {
  ExportNet net;
  ModelBundle bundle;
  std::vector<uint8_t> images;  // N x H x W x 3 RGB
  int n = 3;
};

Fixture make_fixture(const std::string& pooling) {
  std::mt19937 rng(7);
  Fixture f;
  f.net.arch = "tiny";
  f.net.rgb = false;
  f.net.scale = 0.5f;
  f.net.mean = {40.f, 50.f, 60.f};
  f.net.stdev = {1.f, 2.f, 4.f};
  f.net.width = 8;
  f.net.height = 6;
  ExportStage conv1 = make_stage("conv1", ExportStage::Kind::kConv);
  conv1.conv = random_conv(rng, 4, 3, 3, 1, 1, true);
  ExportStage pool1 = make_stage("pool1", ExportStage::Kind::kMaxPool);
  pool1.kernel = 3;
  pool1.stride = 2;
  pool1.padding = 1;
  ExportStage res2a = make_stage("res2a", ExportStage::Kind::kBottleneck);
  res2a.block = {random_conv(rng, 2, 4, 1, 1, 0, true), random_conv(rng, 2, 2, 3, 1, 1, true),
                 random_conv(rng, 6, 2, 1, 1, 0, false), random_conv(rng, 6, 4, 1, 1, 0, false)};
  ExportStage res2b = make_stage("res2b", ExportStage::Kind::kBottleneck);
  res2b.block = {random_conv(rng, 2, 6, 1, 1, 0, true), random_conv(rng, 2, 2, 3, 1, 1, true),
                 random_conv(rng, 6, 2, 1, 1, 0, false), ExportConv{}};
  const ExportStage unused = make_stage("res2c", ExportStage::Kind::kRelu);
  f.net.stages = {conv1, pool1, res2a, res2b, unused};
  ModelBundle& b = f.bundle;
  b.path = "tiny.h5";
  b.recipe.attributes = {{"backbone", "tiny"}, {"pooling", pooling}, {"input_size", "8x6"}};
  const PoolGrid grid = parse_pool_grid(pooling);
  const int64_t cells = grid.pooled() ? grid.rows * grid.cols : 12;
  b.recipe.layers = {{"res2b", 6 * cells, "6x3x4"}, {"res2a", 6 * cells, "6x3x4"}};
  b.preprocessing = Preprocessing::kL2;
  b.models = 3;
  std::normal_distribution<float> n(0.0f, 1.0f);
  for (const auto& [range, terms] :
       std::vector<std::pair<std::string, int>>{{"13-16", 2}, {"4-6", 1}}) {
    StageModel s;
    s.stage_range = range;
    s.weights.resize(terms * 3, b.recipe.dim());
    for (Eigen::Index i = 0; i < s.weights.size(); ++i) s.weights.data()[i] = n(rng);
    for (int t = 0; t < terms; ++t) {
      TermModel term;
      term.term = "term " + std::to_string(t);
      term.bias = {n(rng), n(rng), n(rng)};
      s.terms.push_back(term);
    }
    b.stages.push_back(s);
  }
  std::uniform_int_distribution<int> px(0, 255);
  for (int i = 0; i < f.n * 6 * 8 * 3; ++i) f.images.push_back(static_cast<uint8_t>(px(rng)));
  return f;
}

// The naive forward pass: image i's scores per stage range.
std::map<std::string, std::vector<double>> reference(const Fixture& f) {
  std::map<std::string, std::vector<double>> scores;
  const PoolGrid grid = parse_pool_grid(f.bundle.recipe.attributes.at("pooling"));
  for (int img = 0; img < f.n; ++img) {
    Map x{3, 6, 8, std::vector<double>(3 * 6 * 8)};
    for (int i = 0; i < 6; ++i)
      for (int j = 0; j < 8; ++j)
        for (int c = 0; c < 3; ++c) {  // BGR: channel c takes RGB channel 2 - c
          const double v = f.images[((static_cast<size_t>(img) * 6 + i) * 8 + j) * 3 + (2 - c)];
          x.at(c, i, j) = (v * f.net.scale - f.net.mean[c]) / f.net.stdev[c];
        }
    const Map a = maxpool(conv(x, f.net.stages[0].conv), 3, 2, 1);
    const Map r2a = bottleneck(a, f.net.stages[2]);
    const Map r2b = bottleneck(r2a, f.net.stages[3]);
    std::vector<double> z;
    for (const Map* m : {&r2b, &r2a}) {  // the recipe's order
      const auto part = grid.pooled() ? pool(*m, grid.rows, grid.cols, grid.op == "max") : m->v;
      z.insert(z.end(), part.begin(), part.end());
    }
    double norm = 0;
    for (double v : z) norm += v * v;
    for (double& v : z) v /= std::sqrt(norm);
    for (const auto& s : f.bundle.stages)
      for (size_t t = 0; t < s.terms.size(); ++t) {
        double mean = 0;
        for (int k = 0; k < 3; ++k) {
          double d = s.terms[t].bias[k];
          for (size_t j = 0; j < z.size(); ++j)
            d += s.weights(Eigen::Index(t * 3 + k), Eigen::Index(j)) * z[j];
          mean += 1.0 / (1.0 + std::exp(-d)) / 3;
        }
        scores[s.stage_range].push_back(mean);
      }
  }
  return scores;
}

void check_against_reference(const std::string& pooling) {
  const Fixture f = make_fixture(pooling);
  const std::string dir = test::temp_dir("onnx-graph-" + pooling.substr(0, 3));
  write_text_atomically(dir + "/model.onnx", annotator_graph(f.net, f.bundle).serialize({}));
  write_npy(dir + "/input.npy", {f.n, 6, 8, 3}, f.images.data());
  std::string error;
  const auto out = test::run_onnx(dir + "/model.onnx", dir + "/input.npy", &error);
  ASSERT_TRUE(error.empty()) << error;
  const auto expected = reference(f);
  for (const auto& [range, values] : expected) {
    const auto& got = out.at(score_output_name(range));
    EXPECT_EQ(got.first, (std::vector<int64_t>{f.n, int64_t(values.size() / f.n)}));
    ASSERT_EQ(got.second.size(), values.size());
    for (size_t i = 0; i < values.size(); ++i)
      EXPECT_NEAR(got.second[i], values[i], 1e-5) << pooling << " " << range << " " << i;
  }
}

TEST(AnnotatorGraph, AdaptiveAverageMatrixByHand) {
  // H = 3 into 2 rows: {0, 1} and {1, 2}; W = 2 into 1 column: {0, 1}. Each cell averages 4.
  const auto m = adaptive_average_matrix(3, 2, 2, 1);
  ASSERT_EQ(m.size(), 12u);
  const std::vector<float> expected = {0.25f, 0,     0.25f, 0,     0.25f, 0.25f,
                                       0.25f, 0.25f, 0,     0.25f, 0,     0.25f};
  EXPECT_EQ(m, expected);
}

TEST(AnnotatorGraph, OnnxRuntimeMatchesNaiveForwardAvgPool) {
  ISHANNOT_SKIP_WITHOUT_ONNXRUNTIME();
  check_against_reference("avg:2x3");
}

TEST(AnnotatorGraph, OnnxRuntimeMatchesNaiveForwardMaxPoolAndFlatten) {
  ISHANNOT_SKIP_WITHOUT_ONNXRUNTIME();
  check_against_reference("max:2x2");
  check_against_reference("none");
}

// backbone_graph: the tiny net's res2a and res2b maps as outputs, run by ONNX Runtime, against the
// naive forward pass (plain NCHW, the order extract stores).
TEST(BackboneGraph, OnnxRuntimeMatchesNaiveForwardMaps) {
  ISHANNOT_SKIP_WITHOUT_ONNXRUNTIME();
  const Fixture f = make_fixture("none");
  const std::string dir = test::temp_dir("onnx-backbone");
  write_text_atomically(dir + "/model.onnx",
                        backbone_graph(f.net, {"res2b", "res2a"}).serialize({}));
  write_npy(dir + "/input.npy", {f.n, 6, 8, 3}, f.images.data());
  std::string error;
  const auto out = test::run_onnx(dir + "/model.onnx", dir + "/input.npy", &error);
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_EQ(out.size(), 2u);
  for (int img = 0; img < f.n; ++img) {
    Map x{3, 6, 8, std::vector<double>(3 * 6 * 8)};
    for (int i = 0; i < 6; ++i)
      for (int j = 0; j < 8; ++j)
        for (int c = 0; c < 3; ++c) {
          const double v = f.images[((static_cast<size_t>(img) * 6 + i) * 8 + j) * 3 + (2 - c)];
          x.at(c, i, j) = (v * f.net.scale - f.net.mean[c]) / f.net.stdev[c];
        }
    const Map r2a = bottleneck(maxpool(conv(x, f.net.stages[0].conv), 3, 2, 1), f.net.stages[2]);
    const Map r2b = bottleneck(r2a, f.net.stages[3]);
    for (const auto& [name, map] : {std::pair{"features_res2a", &r2a}, {"features_res2b", &r2b}}) {
      const auto& got = out.at(name);
      EXPECT_EQ(got.first, (std::vector<int64_t>{f.n, 6, 3, 4})) << name;
      const size_t size = map->v.size();
      ASSERT_EQ(got.second.size(), size * static_cast<size_t>(f.n)) << name;
      for (size_t k = 0; k < size; ++k)
        EXPECT_NEAR(got.second[img * size + k], map->v[k], 1e-4 * (1 + std::abs(map->v[k])))
            << name << " " << img << " " << k;
    }
  }
  EXPECT_NE(test::error_text([&] { backbone_graph(f.net, {"res9z"}); }).find("'res9z'"),
            std::string::npos);
}

TEST(AnnotatorGraph, UnknownLayerIsNamed) {
  Fixture f = make_fixture("avg:2x3");
  f.bundle.recipe.layers[0].name = "res9z";
  EXPECT_NE(test::error_text([&] { annotator_graph(f.net, f.bundle); }).find("'res9z'"),
            std::string::npos);
}

TEST(AnnotatorGraph, AttentionBagStageIsRefused) {
  Fixture f = make_fixture("avg:2x3");
  f.bundle.stages[0].mil_components = 4;
  EXPECT_NE(test::error_text([&] { annotator_graph(f.net, f.bundle); }).find("attention-MIL"),
            std::string::npos);
}

TEST(ModelPackage, RdfYamlFollowsTheSchemaAndNamesEveryFileWithItsSha256) {
  const Fixture f = make_fixture("avg:2x3");
  ModelPackage pkg;
  pkg.onnx = annotator_graph(f.net, f.bundle).serialize({});
  pkg.width = 8;
  pkg.height = 6;
  pkg.arch = "tiny";
  pkg.pixel_preprocessing = "BGR, x 0.5, minus mean";
  pkg.test_input = f.images;
  pkg.test_images = {"a", "b", "c"};
  for (const auto& [range, values] : reference(f))
    pkg.test_scores[range] = std::vector<float>(values.begin(), values.end());
  pkg.term_ids = {{"term 0", "FBbt:00000001"}};
  pkg.ontology = "fbbt 2013-07-26";
  pkg.tool_version = "test";
  const std::string dir = test::temp_dir("onnx-package") + "/pkg";
  const auto files = write_model_package(dir, f.bundle, pkg, false);
  EXPECT_EQ(files.size(), 8u);  // model, rdf, README, cover, terms, input, one output per stage
  EXPECT_TRUE(std::filesystem::exists(dir + "/test_output_4-6.npy"));
  EXPECT_NE(test::error_text([&] {
              write_model_package(dir, f.bundle, pkg, false);
            }).find("already exists"),
            std::string::npos);
  std::string report;
  if (test::run_status("python3 -c 'import yaml, jsonschema' 2>/dev/null") != 0)
    GTEST_SKIP() << "python3-yaml or python3-jsonschema missing (scripts/setup.sh)";
  EXPECT_EQ(test::check_package(dir, &report), 0) << report;
  // The checker can fail: a file changed after export.
  std::ofstream(dir + "/test_input.npy", std::ios::app) << "x";
  EXPECT_EQ(test::check_package(dir, &report), 1);
  EXPECT_NE(report.find("test_input.npy: sha256"), std::string::npos) << report;
  if (!test::onnxruntime_node_modules().empty()) {  // the test tensors reproduce in ONNX Runtime
    write_model_package(dir, f.bundle, pkg, true);
    std::string error;
    const auto out = test::run_onnx(dir + "/model.onnx", dir + "/test_input.npy", &error);
    ASSERT_TRUE(error.empty()) << error;
    const auto& got = out.at("scores_13_16").second;
    for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], pkg.test_scores["13-16"][i], 1e-5);
  }
}

}  // namespace
}  // namespace ishannot
