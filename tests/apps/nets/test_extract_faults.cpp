// extract under faults through the CLI (issue 15): kill -9 at several points then a rerun gives
// the store of an uninterrupted run, value for value; a full disk (2 MiB tmpfs, when this process
// may mount one) and a file-size limit with SIGXFSZ ignored give a one-line error, exit 1, and a
// partial that resumes to that same store; two runs on one --out: the second is refused naming
// the first's pid, --restart included; an --out that is an input, a folder, or a file of another
// kind is refused before any work; a resume with a manifest that lost images is refused. The
// reference is always a run of the same command without the fault. Also: the store's description,
// and the last line's time to the first batch.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "ishannot/common/fs_util.h"
#include "ishannot/features/feature_store.h"
#include "ishannot/infer/plan_engine.h"
#include "support/cli_util.h"
#include "support/nets_support.h"
#include "support/test_util.h"

using namespace ishannot;
namespace fs = std::filesystem;

namespace {

// Unmounts a test's tmpfs when the test ends, however it ends.
struct Unmount {
  std::string dir;
  ~Unmount() { umount2(dir.c_str(), MNT_DETACH); }
};

// 60 synthetic BDGP-like images of 13-16 (the campaign's S), made once per test.
std::string synth_set(const std::string& dir, int images = 60) {
  const std::string out = dir + "/S";
  EXPECT_EQ(test::run_status(test::cli() + "synth --out " + out + " --images " +
                             std::to_string(images) + " --stages 13-16 > /dev/null"),
            0);
  return out + "/images.csv";
}

const std::string kFeatures = " --layers res3d --input-size 64x64 --batch 4";

std::string extract(const std::string& manifest, const std::string& out,
                    const std::string& extra = "") {
  return test::cli() + "extract --data " + manifest + kFeatures + " " + extra + " --out " + out;
}

struct Store {
  std::vector<std::string> ids;
  std::vector<float> values;
};
Store read_store(const std::string& path) {
  FeatureStoreReader r(path);
  Store s{r.ids(), std::vector<float>(static_cast<size_t>(r.rows() * r.dim("res3d")))};
  r.read_rows("res3d", 0, r.rows(), s.values.data());
  return s;
}
void expect_same_store(const std::string& path, const Store& reference) {
  const Store s = read_store(path);
  EXPECT_EQ(s.ids, reference.ids) << path;
  EXPECT_TRUE(s.values == reference.values) << path << ": values differ";
}

pid_t spawn(const std::string& command) {
  const pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", ("exec " + command).c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}
int wait_status(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}
// Polls `ready` every 10 ms and kills `pid` with SIGKILL once it holds; false when the process
// ended first (or after 5 minutes).
bool kill_when(pid_t pid, const std::function<bool()>& ready) {
  for (int i = 0; i < 30000; ++i) {
    if (waitpid(pid, nullptr, WNOHANG) == pid) return false;
    if (ready()) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return false;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

TEST(ExtractFaults, KillNineAtSeveralPointsThenRerunGivesTheUninterruptedStore) {
  ISHANNOT_SKIP_WITHOUT_WEIGHTS();
  const std::string dir = test::temp_dir("extract-kill");
  const std::string manifest = synth_set(dir);
  ASSERT_EQ(test::run_status(extract(manifest, dir + "/ref.h5")), 0);
  const Store reference = read_store(dir + "/ref.h5");  // 60 x 128 KiB: ~7.7 MiB
  const std::string out = dir + "/killed.h5";
  // Killed by progress, not by time: once the partial has grown past 1.5 MiB, then past 4 MiB
  // (a few batches in; each run loads the network again, then resumes).
  for (double mib : {1.5, 4.0}) {
    const pid_t pid = spawn(extract(manifest, out));
    EXPECT_TRUE(kill_when(pid, [&] {
      std::error_code ec;
      const auto size = fs::file_size(out + ".partial", ec);
      return !ec && static_cast<double>(size) > mib * 1024 * 1024;
    })) << "the run ended before it was killed";
  }
  // The plain rerun resumes (the default when the partial is compatible).
  ASSERT_EQ(test::run_status(extract(manifest, out) + " 2> " + dir + "/err.txt"), 0)
      << read_text_file(dir + "/err.txt");
  expect_same_store(out, reference);
}

// 15.3 end to end: the failed batch's rows were all zeros in the final store.
TEST(ExtractFaults, ADiskFullRunStopsCleanlyAndResumesToTheSameStore) {
  ISHANNOT_SKIP_WITHOUT_WEIGHTS();
  const std::string dir = test::temp_dir("extract-tmpfs");
  const std::string manifest = synth_set(dir, 24);
  ASSERT_EQ(test::run_status(extract(manifest, dir + "/ref.h5")), 0);
  const Store reference = read_store(dir + "/ref.h5");  // 24 x 512*8*8 floats = 3 MiB
  const std::string mnt = dir + "/mnt";
  fs::create_directories(mnt);
  if (mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=2m") != 0)
    GTEST_SKIP() << "cannot mount a tmpfs here (needs root)";
  const Unmount unmount{mnt};  // also when an assertion ends the test early
  const int status = test::run_status(extract(manifest, mnt + "/f.h5") + " 2> " + dir + "/err.txt");
  ASSERT_EQ(mount("tmpfs", mnt.c_str(), "tmpfs", MS_REMOUNT, "size=64m"), 0);
  const std::string err = read_text_file(dir + "/err.txt");
  EXPECT_EQ(status, 1) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_NE(err.find("disk full"), std::string::npos) << err;
  ASSERT_EQ(test::run_status(extract(manifest, mnt + "/f.h5")), 0);
  expect_same_store(mnt + "/f.h5", reference);
}

// 15.2: `(ulimit -f 1000; trap '' XFSZ; ishannot extract ...)` crashed in HDF5's close.
TEST(ExtractFaults, AFileSizeLimitGivesACleanErrorAndAResumablePartial) {
  ISHANNOT_SKIP_WITHOUT_WEIGHTS();
  const std::string dir = test::temp_dir("extract-fsize");
  const std::string manifest = synth_set(dir, 24);
  ASSERT_EQ(test::run_status(extract(manifest, dir + "/ref.h5")), 0);
  const Store reference = read_store(dir + "/ref.h5");
  const int status =
      test::run_status("bash -c \"ulimit -f 1000; trap '' XFSZ; " +
                       extract(manifest, dir + "/f.h5") + " 2> " + dir + "/err.txt\"");
  const std::string err = read_text_file(dir + "/err.txt");
  EXPECT_EQ(status, 1) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_NE(err.find("file-size limit"), std::string::npos) << err;
  ASSERT_EQ(test::run_status(extract(manifest, dir + "/f.h5") + " 2> " + dir + "/err2.txt"), 0)
      << read_text_file(dir + "/err2.txt");
  expect_same_store(dir + "/f.h5", reference);
}

// 15.4: two extracts on one --out, the second with --restart: the first said "wrote 60 images",
// the file held 40.
TEST(ExtractFaults, ASecondRunOnTheSameOutIsRefusedNamingTheFirstsPid) {
  ISHANNOT_SKIP_WITHOUT_WEIGHTS();
  const std::string dir = test::temp_dir("extract-lock");
  const std::string manifest = synth_set(dir);
  const std::string out = dir + "/f.h5";
  const pid_t first = spawn(extract(manifest, out));
  // Until the first run holds its lock (a line of /proc/locks names its pid).
  auto holds_lock = [&] {
    std::ifstream locks("/proc/locks");
    std::string line;
    while (std::getline(locks, line))
      if (line.find(" " + std::to_string(first) + " ") != std::string::npos) return true;
    return false;
  };
  for (int i = 0; i < 3000 && !holds_lock(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  // Extraction is fast: hold the first run where it is (its lock with it) while the others try.
  ::kill(first, SIGSTOP);
  ASSERT_TRUE(fs::exists(out + ".partial")) << "the first run ended before it could be stopped";
  for (const char* flag : {"", "--restart"}) {
    const int status = test::run_status(extract(manifest, out, flag) + " 2> " + dir + "/err.txt");
    const std::string err = read_text_file(dir + "/err.txt");
    EXPECT_EQ(status, 1) << flag << ": " << err;
    EXPECT_NE(err.find("another process"), std::string::npos) << err;
    EXPECT_NE(err.find("pid " + std::to_string(first)), std::string::npos) << err;
  }
  ::kill(first, SIGCONT);
  ASSERT_EQ(wait_status(first), 0);
  EXPECT_EQ(read_store(out).ids.size(), 60u);
}

// 15.5: --out equal to an input was accepted and overwrote it. 15.8: --out DIR failed only after
// the whole run.
TEST(ExtractFaults, OutputsThatAreInputsFoldersOrOtherFilesAreRefusedFirst) {
  ISHANNOT_SKIP_WITHOUT_WEIGHTS();
  const std::string dir = test::temp_dir("extract-out");
  const std::string manifest = synth_set(dir, 8);
  const std::string manifest_text = read_text_file(manifest);
  std::string first_image;
  for (const auto& entry : fs::recursive_directory_iterator(fs::path(manifest).parent_path()))
    if (entry.path().extension() == ".png") {
      first_image = entry.path().string();
      break;
    }
  ASSERT_FALSE(first_image.empty());
  const std::string image_bytes = read_text_file(first_image);
  fs::copy_file(default_resnet50_weights(), dir + "/weights.h5");
  const std::string weights_sha = sha256_file(dir + "/weights.h5");
  auto refused = [&](const std::string& command, const std::string& needle) {
    const auto start = std::chrono::steady_clock::now();
    const int status = test::run_status(command + " 2> " + dir + "/err.txt");
    const std::string err = read_text_file(dir + "/err.txt");
    EXPECT_EQ(status, 1) << command << "\n" << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
    EXPECT_NE(err.find(needle), std::string::npos) << err;
    return seconds_since(start);
  };
  refused(extract(manifest, manifest), "input");
  EXPECT_EQ(read_text_file(manifest), manifest_text);
  refused(extract(manifest, first_image), "input");
  EXPECT_EQ(read_text_file(first_image), image_bytes);
  refused(extract(manifest, dir + "/weights.h5", "--weights " + dir + "/weights.h5"), "input");
  EXPECT_EQ(sha256_file(dir + "/weights.h5"), weights_sha);
  fs::create_directories(dir + "/outdir");
  refused(extract(manifest, dir + "/outdir"), "folder");
  EXPECT_FALSE(fs::exists(dir + "/outdir.partial"));
}

// 15.7: resuming with a manifest that no longer lists some stored images kept them.
TEST(ExtractFaults, ResumingWithAManifestThatLostImagesIsRefused) {
  ISHANNOT_SKIP_WITHOUT_WEIGHTS();
  const std::string dir = test::temp_dir("extract-manifest-change");
  const std::string manifest = synth_set(dir, 12);
  // An unreadable image near the end stops a --strict run after the batches before it.
  std::string text = read_text_file(manifest);
  const std::string header = text.substr(0, text.find('\n') + 1);
  std::vector<std::string> rows;
  for (size_t at = header.size(); at < text.size();) {
    const size_t end = text.find('\n', at);
    rows.push_back(text.substr(at, end - at + 1));
    at = end + 1;
  }
  ASSERT_GE(rows.size(), 10u);
  const std::string folder = fs::path(manifest).parent_path().string();
  std::ofstream(folder + "/images/broken.png") << "not a png";
  std::ofstream(folder + "/a.csv") << header + rows[0] + rows[1] + rows[2] + rows[3] + rows[4] +
                                          rows[5] + rows[6] + rows[7] +
                                          "broken.png,gX,FBgn0,13-16,,lateral\n";
  EXPECT_EQ(
      test::run_status(extract(folder + "/a.csv", dir + "/f.h5", "--strict") + " 2> /dev/null"), 1);
  ASSERT_TRUE(fs::exists(dir + "/f.h5.partial"));
  // The same set without its first two images.
  std::string fewer = header;
  for (size_t i = 2; i < rows.size(); ++i) fewer += rows[i];
  std::ofstream(folder + "/b.csv") << fewer;
  EXPECT_EQ(test::run_status(extract(folder + "/b.csv", dir + "/f.h5") + " 2> " + dir + "/err.txt"),
            1);
  const std::string err = read_text_file(dir + "/err.txt");
  EXPECT_NE(err.find("f.h5.partial"), std::string::npos) << err;
  EXPECT_NE(err.find("--restart"), std::string::npos) << err;
  // --restart starts over and succeeds.
  EXPECT_EQ(test::run_status(extract(folder + "/b.csv", dir + "/f.h5", "--restart")), 0);
  EXPECT_EQ(read_store(dir + "/f.h5").ids.size(), rows.size() - 2);
}

// 15.8: usage errors exited 1 in extract and finetune (2 in evaluate): 2 everywhere.
TEST(ExtractFaults, UsageErrorsOfTheCnnCommandsExit2) {
  const std::string dir = test::temp_dir("nets-usage");
  const std::string manifest = test::write_small_manifest(dir);
  for (const std::string& args :
       {"extract --data " + manifest + " --out o.h5 --batch 0",
        "extract --data " + manifest + " --out o.h5 --pool 3y",
        "extract --data " + manifest + " --out o.h5 --dtype float64",
        "extract --data " + manifest + " --out o.h5 --precision fp16",
        "extract --data " + manifest + " --out o.h5 --resume --restart",
        "finetune --data " + manifest + " --stage 13-16 --out m.pt --optimizer rmsprop",
        "finetune --data " + manifest + " --stage 13-16 --out m.pt --epochs 0",
        "finetune --data " + manifest + " --stage 5-9 --out m.pt",
        "finetune --data " + manifest + " --stage 13-16 --out m.pt --fold 3/2"}) {
    const int status =
        test::run_status(test::ishannot_binary() + " " + args + " 2> " + dir + "/err.txt");
    const std::string err = read_text_file(dir + "/err.txt");
    EXPECT_EQ(status, 2) << args << "\n" << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << args << "\n" << err;
  }
}

// 16.2: the per-layer shape said 1024x14x14 for a layer pooled to 4x4; extract and baseline wrote
// different attribute sets. Read back with h5py (tests/support/h5py_describe.py).
TEST(ExtractStore, DescribesItsGridSourceManifestAndCommand) {
  ISHANNOT_SKIP_WITHOUT_WEIGHTS();
  ISHANNOT_SKIP_WITHOUT_H5PY();
  const std::string dir = test::temp_dir("extract-attributes");
  const std::string manifest = synth_set(dir, 8);
  ASSERT_EQ(
      test::run_status(test::cli() + "extract --data " + manifest +
                       " --layers res3d --input-size 64x64 --pool 2x2 --out " + dir + "/f.h5"),
      0);
  ASSERT_EQ(test::run_status("/usr/bin/python3 " + test::source_dir() +
                             "/tests/support/h5py_describe.py " + dir + "/f.h5 > " + dir +
                             "/d.json && sha256sum " + manifest + " > " + dir + "/sha.txt"),
            0);
  const auto d = nlohmann::json::parse(read_text_file(dir + "/d.json"));
  // docs/FEATURE_STORE.md's documented set, the same as the SC baseline's.
  for (const char* name :
       {"format_version", "tool_version", "created_by", "manifest_path", "manifest_sha256",
        "backbone", "weights_path", "weights_sha256", "input_size", "resize_policy",
        "preprocessing", "pooling", "layers", "seed", "complete_rows"})
    EXPECT_TRUE(d["attrs"].contains(name)) << name;
  EXPECT_EQ(d["attrs"]["manifest_sha256"], read_text_file(dir + "/sha.txt").substr(0, 64));
  EXPECT_EQ(d["attrs"]["manifest_path"], manifest);
  EXPECT_NE(d["attrs"]["created_by"].get<std::string>().find("--pool 2x2"), std::string::npos);
  const auto& layer = d["layers"]["res3d"];
  EXPECT_EQ(layer["attrs"]["shape"], "512x2x2");  // what is stored: 2048 values
  EXPECT_EQ(layer["shape"][1], 2048);
  EXPECT_EQ(layer["attrs"]["source_shape"], "512x8x8");  // res3d at 64x64
  EXPECT_EQ(layer["attrs"]["pooling"], "avg:2x2");
  // The manifest (image,gene,...; no quoted fields in synth's) read by hand: the reference.
  std::map<std::string, std::string> gene_of;
  std::ifstream in(manifest);
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    const std::string image = line.substr(0, line.find(','));
    const std::string rest = line.substr(line.find(',') + 1);
    gene_of[fs::path(image).stem().string()] = rest.substr(0, rest.find(','));
  }
  ASSERT_EQ(d["ids"].size(), 8u);
  for (size_t i = 0; i < 8; ++i)
    EXPECT_EQ(d["meta"]["gene"][i], gene_of.at(d["ids"][i].get<std::string>()));
}

// Issue 22 (Low): --pool 16x40 on an 8x20 map was accepted, each value repeated. res3d at 64x64
// is an 8x8 map (stride 8): 16x16 is refused in one line naming both, 8x8 is taken.
TEST(ExtractFaults, APoolGridFinerThanTheMapIsRefused) {
  const std::string dir = test::temp_dir("nets-pool-finer");
  const std::string manifest = synth_set(dir, 4);
  const int status = test::run_status(extract(manifest, dir + "/fine.h5", "--pool 16x16") + " 2> " +
                                      dir + "/err.txt");
  const std::string err = read_text_file(dir + "/err.txt");
  EXPECT_EQ(status, 1) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_NE(err.find("--pool avg:16x16: layer res3d's map is 8x8 at input 64x64"),
            std::string::npos)
      << err;
  EXPECT_FALSE(fs::exists(dir + "/fine.h5"));
  EXPECT_EQ(test::run_status(extract(manifest, dir + "/ok.h5", "--pool 8x8") + " 2> /dev/null"), 0);
}

// --precision bf16 on a CPU without bf16 (simulated): one line naming the option and the reason,
// exit 1, before any output; where the CPU has it, the store says which arithmetic made it.
TEST(ExtractStore, Bf16IsRefusedWithoutTheCpuAndRecordedWithIt) {
  ISHANNOT_SKIP_WITHOUT_WEIGHTS();
  const std::string dir = test::temp_dir("extract-bf16");
  const std::string manifest = synth_set(dir, 4);
  const int status = test::run_status("ISHANNOT_CPU_NO_BF16=1 " +
                                      extract(manifest, dir + "/f.h5", "--precision bf16") +
                                      " 2> " + dir + "/err.txt");
  const std::string err = read_text_file(dir + "/err.txt");
  EXPECT_EQ(status, 1) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_NE(err.find("--precision bf16"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(dir + "/f.h5.partial"));
  EXPECT_FALSE(fs::exists(dir + "/f.h5"));
  ASSERT_EQ(test::run_status(extract(manifest, dir + "/f32.h5") + " 2> /dev/null"), 0);
  EXPECT_EQ(FeatureStoreReader(dir + "/f32.h5").attributes().at("precision"), "fp32");
  if (!PlanEngine::bf16_unsupported_reason().empty()) return;
  ASSERT_EQ(
      test::run_status(extract(manifest, dir + "/b16.h5", "--precision bf16") + " 2> /dev/null"),
      0);
  EXPECT_EQ(FeatureStoreReader(dir + "/b16.h5").attributes().at("precision"), "bf16");
  const Store a = read_store(dir + "/f32.h5"), b = read_store(dir + "/b16.h5");
  ASSERT_EQ(a.values.size(), b.values.size());
  double diff = 0, norm = 0;
  for (size_t i = 0; i < a.values.size(); ++i) {
    diff += (a.values[i] - b.values[i]) * double(a.values[i] - b.values[i]);
    norm += a.values[i] * double(a.values[i]);
  }
  EXPECT_LT(std::sqrt(diff / norm), 0.05);
  EXPECT_GT(std::sqrt(diff / norm), 1e-4);
}

// The run's last line gives the time from the process's start to its first batch; the reference
// is the wall time this test measures around the whole process (an upper bound) and zero.
TEST(ExtractStore, TheLastLineGivesTheTimeToTheFirstBatch) {
  ISHANNOT_SKIP_WITHOUT_WEIGHTS();
  const std::string dir = test::temp_dir("extract-first-batch");
  const std::string manifest = synth_set(dir, 6);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(test::run_status(test::ishannot_binary() + " extract --data " + manifest + kFeatures +
                             " --out " + dir + "/f.h5 2> " + dir + "/err.txt"),
            0);
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::string text = read_text_file(dir + "/err.txt");
  const std::string key = "(first batch done ";
  const size_t at = text.rfind(key);
  ASSERT_NE(at, std::string::npos) << text;
  const double first = std::stod(text.substr(at + key.size()));
  EXPECT_NE(text.find(" s after the process started)", at), std::string::npos) << text;
  EXPECT_GT(first, 0.0) << text;
  EXPECT_LE(first, wall) << text;
}
