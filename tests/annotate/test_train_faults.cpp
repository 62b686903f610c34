// Issue 22 against train (library and CLI): train drops the rows evaluate drops (3e38, 1e20,
// all-zero rows: one row filter), so its bundle is finite and its CV AUC is evaluate's; a bundle
// never holds, and annotate never accepts, NaN/Inf weights or biases, and an edited weight fails
// its SHA-256; a killed train (kill -9 at several progress points, or a partial whose header
// never reached the disk) resumes to the uninterrupted bundle; an interrupted run of another
// configuration is an error naming --restart; a file-size limit (SIGXFSZ ignored) and a full
// disk (2 MiB tmpfs, when this process may mount one) stop train with a one-line error, no crash,
// and a partial that resumes. References: evaluate's metrics, the values edited here, a clean run.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <sys/mount.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <thread>

#include "ishannot/annotate/model_bundle.h"
#include "ishannot/annotate/train.h"
#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/eval/evaluation.h"
#include "support/cli_util.h"
#include "support/store_util.h"
#include "support/test_paths.h"
#include "support/test_util.h"

using namespace ishannot;
namespace fs = std::filesystem;

namespace {

TrainParams small_train(Preprocessing pre) {
  TrainParams t;
  t.folds = 3;
  t.fit.inner_folds = 2;
  t.fit.c_grid = {0.1, 1};
  t.fit.ensemble.models = 3;
  t.fit.inner_models = 1;
  t.terms.top_k = 4;
  t.preprocessing = pre;
  return t;
}

EvaluationParams matching_eval(const TrainParams& t) {
  EvaluationParams e;
  e.folds = t.folds;
  e.fit = t.fit;
  e.terms = t.terms;
  e.preprocessing = t.preprocessing;
  e.seed = t.seed;
  return e;
}

// Overwrites one element of a 2-D dataset of an HDF5 file (the independent edit of a store or a
// bundle); `type` is the memory type of `value`.
template <class T>
void set_element(const std::string& path, const std::string& dataset, hsize_t row, hsize_t col,
                 T value, hid_t type) {
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  hid_t d = H5Dopen2(f, dataset.c_str(), H5P_DEFAULT);
  hid_t space = H5Dget_space(d);
  const hsize_t start[2] = {row, col}, count[2] = {1, 1};
  H5Sselect_hyperslab(space, H5S_SELECT_SET, start, nullptr, count, nullptr);
  hid_t mem = H5Screate_simple(2, count, nullptr);
  H5Dwrite(d, type, mem, space, H5P_DEFAULT, &value);
  H5Sclose(mem);
  H5Sclose(space);
  H5Dclose(d);
  H5Fclose(f);
}

void delete_attribute(const std::string& path, const std::string& object, const std::string& name) {
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  H5Adelete_by_name(f, object.c_str(), name.c_str(), H5P_DEFAULT);
  H5Fclose(f);
}

// Every stage's weights of two bundles equal, and their biases.
void expect_same_bundle(const std::string& a_path, const std::string& b_path) {
  const ModelBundle a = read_model_bundle(a_path), b = read_model_bundle(b_path);
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

// A store of `dim` values per image for the images of `manifest`: noise plus a per-term pattern
// in the first 12 values (learnable), the rest noise; large enough for the disk tests.
void write_wide_store(const std::string& path, const Dataset& ds, int64_t dim) {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal;
  std::vector<std::string> ids;
  std::vector<float> values;
  for (const auto& image : ds.images) {
    std::vector<float> x(static_cast<size_t>(dim));
    for (auto& v : x) v = normal(rng);
    for (const auto& t : image.terms) x[std::hash<std::string>{}(t) % 12] += 3.0f;
    ids.push_back(image.id);
    values.insert(values.end(), x.begin(), x.end());
  }
  FeatureStoreWriter w(path, {{"wide", dim, std::to_string(dim) + "x1x1"}}, FeatureDtype::kFloat32,
                       {{"backbone", "synthetic"}});
  w.append(ids, {{"wide", values.data()}});
  w.close();
}

// 12 genes x 3 images at 13-16 and at 4-6 and a wide store of them: `train` arguments.
std::string wide_train_args(const std::string& dir, int64_t dim) {
  const std::string manifest = test::write_small_manifest(dir, 12, 3, {"13-16", "4-6"});
  write_wide_store(dir + "/f.h5", read_manifest(manifest, false), dim);
  return "train --data " + manifest + " --features " + dir +
         "/f.h5 --folds 0 --c-grid 1 --models 3 --top-k 4 --view all";
}

bool mount_tmpfs(const std::string& dir, const std::string& size) {
  fs::create_directories(dir);
  return mount("tmpfs", dir.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
}

struct Unmount {
  std::string dir;
  ~Unmount() { umount2(dir.c_str(), MNT_DETACH); }
};

}  // namespace

// Item 1: 3e38, 1e20/-3e38 rows and an all-zero row: with `none` the bundle had Inf weights and
// annotate wrote nan scores; with `l2` train's CV AUC differed from evaluate's by up to 0.062.
TEST(TrainFaults, TrainDropsTheRowsEvaluateDropsSoItsBundleIsFiniteAndItsAucIsEvaluates) {
  const std::string dir = test::temp_dir("train-bad-rows");
  const Dataset ds = read_manifest(test::write_small_manifest(dir), false);
  test::write_store_for(dir + "/bad.h5", ds, 3, [](const std::string& id, float* row) {
    if (id == "g4_1") row[5] = 3e38f;
    if (id == "g7_0")
      for (int j = 0; j < 12; ++j) row[j] = 1e20f;
    if (id == "g8_2") row[2] = -3e38f;
    if (id == "g10_0")
      for (int j = 0; j < 12; ++j) row[j] = 0;
  });
  const FeatureStoreReader store(dir + "/bad.h5");
  for (Preprocessing pre : {Preprocessing::kNone, Preprocessing::kL2}) {
    const TrainParams tp = small_train(pre);
    const std::string out = dir + "/m_" + preprocessing_name(pre) + ".h5";
    const TrainSummary s = train_model(ds, store, tp, out);
    std::string notes;
    for (const auto& n : s.notes) notes += n + "\n";
    EXPECT_NE(notes.find("too large for the Gram"), std::string::npos) << notes;
    EXPECT_NE(notes.find("all zero"), std::string::npos) << notes;
    const ModelBundle bundle = read_model_bundle(out);
    for (auto stage : bundle.stages) {
      load_stage_weights(bundle, stage);  // throws on NaN/Inf
      EXPECT_TRUE(stage.weights.allFinite());
      EXPECT_EQ(stage.images, 36 - 4) << "the four bad images are not trained on";
    }
    const EvaluationResult evaluated = run_evaluation(ds, store, matching_eval(tp));
    std::map<std::string, std::vector<double>> aucs;
    for (const auto& m : evaluated.metrics)
      if (m.metric == "auc") aucs[m.term].push_back(m.value);
    int checked = 0;
    for (const auto& term : bundle.stages.at(0).terms) {
      const auto& v = aucs[term.term];
      if (v.empty()) continue;
      double mean = 0;
      for (double a : v) mean += a / static_cast<double>(v.size());
      EXPECT_NEAR(term.cv.auc, mean, 1e-12) << term.term << " " << preprocessing_name(pre);
      ++checked;
    }
    EXPECT_GE(checked, 3);
  }
}

// Items 1, 8 and Low (integrity): the writer refuses a non-finite model; the reader refuses an
// edited weight (SHA-256), a NaN weight (also without the SHA-256) and an infinite bias.
TEST(TrainFaults, BundlesNeverHoldNanOrInfAndEditedWeightsAreRefused) {
  const std::string dir = test::temp_dir("bundle-finite");
  const Dataset ds = read_manifest(test::write_small_manifest(dir), false);
  test::write_store_for(dir + "/f.h5", ds);
  const FeatureStoreReader store(dir + "/f.h5");
  TrainParams tp = small_train(Preprocessing::kL2);
  tp.folds = 0;
  train_model(ds, store, tp, dir + "/m.h5");
  const std::string clean = read_text_file(dir + "/m.h5");
  auto copy = [&](const std::string& name) {
    std::ofstream(dir + "/" + name, std::ios::binary) << clean;
    return dir + "/" + name;
  };
  auto load_error = [&](const std::string& path) {
    return test::error_text([&] {
      const ModelBundle b = read_model_bundle(path);
      for (auto s : b.stages) load_stage_weights(b, s);
    });
  };
  EXPECT_EQ(load_error(dir + "/m.h5"), "");
  const std::string edited = copy("edited.h5");
  set_element(edited, "/stages/13-16/weights", 1, 3, 0.25f, H5T_NATIVE_FLOAT);
  EXPECT_NE(load_error(edited).find("SHA-256"), std::string::npos) << load_error(edited);
  const std::string nan = copy("nan.h5");
  set_element(nan, "/stages/13-16/weights", 0, 0, std::nanf(""), H5T_NATIVE_FLOAT);
  delete_attribute(nan, "/stages/13-16", "weights_sha256");
  EXPECT_NE(load_error(nan).find("NaN/Inf"), std::string::npos) << load_error(nan);
  EXPECT_EQ(load_error(nan).find(nan), 0u) << "names the file";
  const std::string inf = copy("inf.h5");
  set_element(inf, "/stages/13-16/bias", 0, 1, HUGE_VAL, H5T_NATIVE_DOUBLE);
  EXPECT_NE(load_error(inf).find("bias that is not a number"), std::string::npos)
      << load_error(inf);

  ModelBundle header = read_model_bundle(dir + "/m.h5");
  StageModel stage = header.stages.at(0);
  load_stage_weights(header, stage);
  stage.weights(0, 0) = std::numeric_limits<float>::infinity();
  const std::string message = test::error_text([&] {
    ModelBundleWriter w(dir + "/w.h5", header, false);
    w.add_stage(stage);
  });
  EXPECT_NE(message.find("not finite"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(dir + "/w.h5"));
}

// Item 5: a partial whose header never reached the disk (a kill right after its creation), and
// kills in the middle of a stage range: the rerun resumes to the uninterrupted bundle.
TEST(TrainFaults, APartialKilledAtAnyPointResumesToTheUninterruptedBundle) {
  const std::string dir = test::temp_dir("train-kill-points");
  const Dataset ds = read_manifest(test::write_small_manifest(dir, 12, 3, {"13-16", "4-6"}), false);
  test::write_store_for(dir + "/f.h5", ds);
  const FeatureStoreReader store(dir + "/f.h5");
  const TrainParams tp = small_train(Preprocessing::kL2);
  train_model(ds, store, tp, dir + "/clean.h5");
  // A partial cut to its first bytes (HDF5's superblock without the rest), and one cut inside
  // its second stage range.
  const auto size = fs::file_size(dir + "/clean.h5");
  for (size_t keep : {size_t{96}, size_t{2048}, static_cast<size_t>(size * 3 / 4)}) {
    const std::string out = dir + "/m" + std::to_string(keep) + ".h5";
    fs::copy_file(dir + "/clean.h5", out + ".partial");
    test::truncate_file(out + ".partial", keep);
    EXPECT_EQ(test::error_text([&] { train_model(ds, store, tp, out); }), "") << keep;
    expect_same_bundle(dir + "/clean.h5", out);
  }
  // Killed (the Reporter throws) during each stage range's training.
  for (const std::string at : {"train 4-6", "train 13-16", "gram feat"}) {
    const std::string out = dir + "/k" + std::to_string(at.size()) + at.substr(0, 1) + ".h5";
    Reporter killer;
    killer.progress = [&](const std::string& stage, int64_t, int64_t) {
      if (stage == at) throw Error("killed");
    };
    EXPECT_THROW(train_model(ds, store, tp, out, killer), Error);
    EXPECT_EQ(test::error_text([&] { train_model(ds, store, tp, out); }), "") << at;
    expect_same_bundle(dir + "/clean.h5", out);
  }
}

// Low: an interrupted run of another configuration was silently discarded; now an error naming
// --restart that leaves it as it was.
TEST(TrainFaults, AnInterruptedRunOfAnotherConfigurationIsAnErrorNamingRestart) {
  const std::string dir = test::temp_dir("train-incompatible");
  const Dataset ds = read_manifest(test::write_small_manifest(dir, 12, 3, {"13-16", "4-6"}), false);
  test::write_store_for(dir + "/f.h5", ds);
  const FeatureStoreReader store(dir + "/f.h5");
  TrainParams tp = small_train(Preprocessing::kL2);
  Reporter killer;
  killer.progress = [](const std::string& stage, int64_t, int64_t) {
    if (stage == "train 13-16") throw Error("killed");
  };
  EXPECT_THROW(train_model(ds, store, tp, dir + "/m.h5", killer), Error);
  const std::string before = read_text_file(dir + "/m.h5.partial");
  tp.seed = 99;
  const std::string message = test::error_text([&] { train_model(ds, store, tp, dir + "/m.h5"); });
  EXPECT_NE(message.find("--restart"), std::string::npos) << message;
  EXPECT_NE(message.find(dir + "/m.h5.partial"), std::string::npos) << message;
  EXPECT_EQ(read_text_file(dir + "/m.h5.partial"), before);
  tp.resume = false;  // what --restart does
  EXPECT_EQ(test::error_text([&] { train_model(ds, store, tp, dir + "/m.h5"); }), "");
}

// Item 3: a file-size limit (SIGXFSZ ignored) made train crash in HDF5's close (exit 139) after
// "cannot write weights (disk full?)". Now: exit 1, one line saying file-size limit, and a
// partial the rerun resumes to the uninterrupted bundle.
TEST(TrainFaults, AFileSizeLimitGivesACleanErrorAndAResumablePartial) {
  const std::string dir = test::temp_dir("train-ulimit");
  // Each stage range's weights: 4 terms x 3 members x 32768 floats = 1.5 MiB; a 3 MiB limit
  // holds the first stage range, not the second.
  const std::string args = wide_train_args(dir, 32768);
  ASSERT_EQ(test::run_status(test::cli() + args + " --out " + dir + "/clean.h5"), 0);
  const std::string err = dir + "/err.txt";
  const int code = test::run_status("bash -c \"ulimit -f 3072; trap '' XFSZ; " + test::cli() +
                                    args + " --out " + dir + "/m.h5\" 2> " + err);
  const std::string message = read_text_file(err);
  EXPECT_EQ(code, 1) << message;
  EXPECT_NE(message.find("file-size limit"), std::string::npos) << message;
  EXPECT_EQ(message.find("disk full"), std::string::npos) << message;
  EXPECT_EQ(std::count(message.begin(), message.end(), '\n'), 1) << message;
  EXPECT_TRUE(fs::exists(dir + "/m.h5.partial"));
  ASSERT_EQ(test::run_status(test::cli() + args + " --out " + dir + "/m.h5"), 0);
  expect_same_bundle(dir + "/clean.h5", dir + "/m.h5");
}

// Item 3 on a full disk: a 3 MiB tmpfs holds the header and the first stage range, not both.
TEST(TrainFaults, ADiskFullRunStopsCleanlyAndResumes) {
  const std::string dir = test::temp_dir("train-tmpfs");
  const std::string mnt = dir + "/mnt";
  if (!mount_tmpfs(mnt, "3m")) GTEST_SKIP() << "cannot mount a tmpfs here (needs root)";
  const Unmount unmount{mnt};
  const std::string args = wide_train_args(dir, 32768);
  ASSERT_EQ(test::run_status(test::cli() + args + " --out " + dir + "/clean.h5"), 0);
  const std::string err = dir + "/err.txt";
  const int code = test::run_status(test::cli() + args + " --out " + mnt + "/m.h5 2> " + err);
  const std::string message = read_text_file(err);
  EXPECT_EQ(code, 1) << message;
  EXPECT_NE(message.find("disk full"), std::string::npos) << message;
  EXPECT_EQ(std::count(message.begin(), message.end(), '\n'), 1) << message;
  ASSERT_EQ(mount("tmpfs", mnt.c_str(), "tmpfs", MS_REMOUNT, "size=64m"), 0);
  ASSERT_EQ(test::run_status(test::cli() + args + " --out " + mnt + "/m.h5"), 0);
  expect_same_bundle(dir + "/clean.h5", mnt + "/m.h5");
}

// Item 5 with kill -9 (no destructor runs): killed as soon as OUT.partial has its header and
// while its first stage range's weights are being written, the rerun gives the uninterrupted
// bundle.
TEST(TrainFaults, KillNineAtSeveralPointsThenRerunGivesTheUninterruptedBundle) {
  const std::string dir = test::temp_dir("train-kill9");
  const std::string args = wide_train_args(dir, 32768);
  ASSERT_EQ(test::run_status(test::cli() + args + " --out " + dir + "/clean.h5"), 0);
  const auto header_size = 1024;         // the partial exists with something in it
  const auto first_stage = 1536 * 1024;  // writing the first stage range's 1.5 MiB of weights
  for (const auto threshold : {header_size, first_stage}) {
    const std::string out = dir + "/m" + std::to_string(threshold) + ".h5";
    const std::string pid_file = dir + "/pid";
    ASSERT_EQ(test::run_status(test::cli() + args + " --out " + out +
                               " > /dev/null 2>&1 & echo $! > " + pid_file),
              0);
    const std::string pid = read_text_file(pid_file).substr(0, read_text_file(pid_file).find('\n'));
    std::error_code ec;
    for (int i = 0; i < 3000; ++i) {
      const auto size = fs::file_size(out + ".partial", ec);
      if ((!ec && size >= static_cast<uintmax_t>(threshold)) || fs::exists(out)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    test::run_status("kill -9 " + pid + " 2> /dev/null");
    // The kernel drops the dead run's lock (a zombie holds no file).
    for (int i = 0; i < 200 && fs::exists(out + ".partial") &&
                    test::run_status("flock -n " + out + ".partial true 2> /dev/null") != 0;
         ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ASSERT_EQ(test::run_status(test::cli() + args + " --out " + out), 0) << threshold;
    expect_same_bundle(dir + "/clean.h5", out);
  }
}
