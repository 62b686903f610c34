// The feature-store writer under faults (issue 15.2, 15.3, 15.4, 15.5, 15.8): a disk that fills
// up (a 2 MiB tmpfs, when this process may mount one) or a file-size limit with SIGXFSZ ignored
// gives a clean Error that says so — no crash in HDF5's close — and a partial that resumes with
// only the rows that reached the disk; a second writer of the same OUT.partial is refused naming
// the holder's pid (held here by util-linux flock(1), an independent locker), --restart included;
// an output that is a folder or a file of another kind is refused before any work. The reference
// values are value_of(row, col), computed here.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/features/feature_store.h"
#include "support/cli_util.h"
#include "support/test_paths.h"
#include "support/test_util.h"

using namespace ishannot;
namespace fs = std::filesystem;

namespace {

// Unmounts a test's tmpfs when the test ends, however it ends.
struct Unmount {
  std::string dir;
  ~Unmount() { umount2(dir.c_str(), MNT_DETACH); }
};

constexpr int64_t kDim = 65536;  // 256 KiB per row: a 4-row batch is 1 MiB

float value_of(int64_t row, int64_t col) {
  return static_cast<float>((row * 131 + col * 7) % 1009 + 1) / 64.0f;  // never 0
}

std::vector<std::string> ids_of(int64_t row0, int64_t n) {
  std::vector<std::string> ids;
  for (int64_t r = row0; r < row0 + n; ++r) ids.push_back("img" + std::to_string(r));
  return ids;
}

void append_rows(FeatureStoreWriter& w, int64_t row0, int64_t n) {
  std::vector<float> v(static_cast<size_t>(n * kDim));
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < kDim; ++c) v[static_cast<size_t>(r * kDim + c)] = value_of(row0 + r, c);
  w.append(ids_of(row0, n), {{"big", v.data()}});
}

std::vector<LayerSpec> big_layer() {
  return {{"big", kDim, "65536x1x1"}};
}

// Runs `body` in a child process; returns its exit code, or 100 + signal when a signal ended it
// (a crash inside HDF5 must not take the test binary down with it).
int in_child(const std::function<int()>& body) {
  const pid_t pid = fork();
  if (pid == 0) {
    int code = 99;
    try {
      code = body();
    } catch (...) {
      code = 98;
    }
    _exit(code);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFSIGNALED(status) ? 100 + WTERMSIG(status) : WEXITSTATUS(status);
}

// In a child: one batch that fits, one that does not. Exit 0 when the second append throws an
// Error whose message contains `expected` (and nothing crashes afterwards), else a code saying
// what went wrong.
// With `file_size_limit` > 0 the child first sets RLIMIT_FSIZE and ignores SIGXFSZ, like
// `(ulimit -f N; trap '' XFSZ; ishannot extract ...)`.
int fill_until_failure(const std::string& path, const std::string& expected,
                       rlim_t file_size_limit = 0) {
  return in_child([&] {
    if (file_size_limit > 0) {
      signal(SIGXFSZ, SIG_IGN);
      const rlimit limit{file_size_limit, file_size_limit};
      if (setrlimit(RLIMIT_FSIZE, &limit) != 0) return 6;
    }
    try {
      FeatureStoreWriter w(path, big_layer(), FeatureDtype::kFloat32, {{"backbone", "test"}});
      append_rows(w, 0, 4);
      try {
        for (int64_t row = 4; row < 64; row += 4) append_rows(w, row, 4);
        return 3;  // never failed
      } catch (const Error& e) {
        const std::string message = e.what();
        if (message.find(expected) == std::string::npos) {
          std::fprintf(stderr, "message: %s\n", message.c_str());
          return 4;
        }
        if (message.find('\n') != std::string::npos) return 5;
        throw;  // unwinds through the writer's destructor, like the CLI
      }
    } catch (const Error&) {
      return 0;  // and the destructor did not crash
    }
  });
}

// Reopens the partial, checks that it holds exactly the first `complete` rows with their values,
// adds the rest and checks the finished store.
void resume_and_finish(const std::string& path, int64_t total) {
  {
    FeatureStoreWriter w(path, big_layer(), FeatureDtype::kFloat32, {{"backbone", "test"}}, true);
    const auto existing = w.existing_ids();
    ASSERT_GE(existing.size(), 4u);
    ASSERT_EQ(existing, ids_of(0, static_cast<int64_t>(existing.size())));
    append_rows(w, static_cast<int64_t>(existing.size()), total - existing.size());
    w.close();
  }
  FeatureStoreReader r(path);
  ASSERT_EQ(r.ids(), ids_of(0, total));
  std::vector<float> row(kDim);
  for (int64_t i = 0; i < total; ++i) {
    r.read_rows("big", i, 1, row.data());
    int64_t wrong = 0;
    for (int64_t c = 0; c < kDim; ++c) wrong += row[static_cast<size_t>(c)] != value_of(i, c);
    EXPECT_EQ(wrong, 0) << "row " << i << " (first value " << row[0] << ")";
  }
}

bool mount_tmpfs(const std::string& dir, const std::string& size) {
  fs::create_directories(dir);
  return mount("tmpfs", dir.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
}

}  // namespace

// 15.3: extract into a 2 MB tmpfs failed ("cannot flush"); after enlarging it the rerun exited 0
// with the failed batch's rows all zeros. 15.8: the message should say the disk is full.
TEST(StoreDurability, ADiskFullBatchIsNotCountedAndTheRunResumes) {
  const std::string dir = test::temp_dir("store-tmpfs");
  const std::string mnt = dir + "/mnt";
  if (!mount_tmpfs(mnt, "2m")) GTEST_SKIP() << "cannot mount a tmpfs here (needs root)";
  const Unmount unmount{mnt};  // also when an assertion ends the test early
  const std::string path = mnt + "/f.h5";
  const int code = fill_until_failure(path, "disk full");
  ASSERT_EQ(mount("tmpfs", mnt.c_str(), "tmpfs", MS_REMOUNT, "size=64m"), 0);
  EXPECT_EQ(code, 0) << "(3: never failed, 4: message, 5: two lines, 1xx: signal)";
  resume_and_finish(path, 24);
}

// 15.2: under a file-size limit with SIGXFSZ ignored, extract printed "cannot flush" and then
// crashed in HDF5's close; the partial could not be reopened.
TEST(StoreDurability, AFileSizeLimitGivesACleanErrorAndAResumablePartial) {
  const std::string dir = test::temp_dir("store-fsize");
  const std::string path = dir + "/f.h5";
  const int code = fill_until_failure(path, "file-size limit", 2 << 20);  // in the child only
  EXPECT_EQ(code, 0) << "(3: never failed, 4: message, 5: two lines, 1xx: signal)";
  resume_and_finish(path, 24);
}

// 15.4: two writers of one OUT.partial: the second, --restart included, is refused with the pid.
TEST(StoreDurability, ASecondWriterIsRefusedNamingTheHoldersPid) {
  if (test::run_status("command -v flock > /dev/null") != 0)
    GTEST_SKIP() << "util-linux flock(1) not installed";
  const std::string dir = test::temp_dir("store-lock");
  const std::string path = dir + "/f.h5";
  {
    try {
      FeatureStoreWriter w(path, big_layer(), FeatureDtype::kFloat32, {{"backbone", "test"}});
      append_rows(w, 0, 2);
      throw std::runtime_error("interrupted");
    } catch (const std::runtime_error&) {
    }
  }
  const std::string before = read_text_file(path + ".partial");
  // Another process holds the lock (flock -x -F OUT.partial sleep 30: no fork, so the pid
  // that holds it is the one killed below).
  const std::string pid_file = dir + "/pid";
  ASSERT_EQ(test::run_status("flock -x -F " + path +
                             ".partial sleep 30 > /dev/null 2>&1 & echo $! > " + pid_file),
            0);
  const std::string pid = read_text_file(pid_file).substr(0, read_text_file(pid_file).find('\n'));
  for (int i = 0; i < 100 && test::run_status("flock -n " + path + ".partial true") == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  for (bool resume : {true, false}) {
    const std::string message = test::error_text([&] {
      FeatureStoreWriter w(path, big_layer(), FeatureDtype::kFloat32, {{"backbone", "test"}},
                           resume);
    });
    EXPECT_NE(message.find(path + ".partial"), std::string::npos) << message;
    EXPECT_NE(message.find("another process"), std::string::npos) << message;
    EXPECT_NE(message.find("pid " + pid), std::string::npos) << message;
    EXPECT_EQ(read_text_file(path + ".partial"), before) << "resume " << resume;
  }
  test::run_status("kill " + pid);
  for (int i = 0; i < 100 && test::run_status("flock -n " + path + ".partial true") != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  FeatureStoreWriter w(path, big_layer(), FeatureDtype::kFloat32, {{"backbone", "test"}}, true);
  EXPECT_EQ(w.existing_ids(), ids_of(0, 2));
}

// 15.8: `extract --out DIR` failed only after the whole run; 15.5: an output path holding a file
// of another kind (a manifest, an image, a weight file) was overwritten.
TEST(StoreDurability, OutputsThatAreFoldersOrOtherFilesAreRefusedAtOnce) {
  const std::string dir = test::temp_dir("store-out");
  fs::create_directories(dir + "/folder.h5");
  std::string message = test::error_text(
      [&] { FeatureStoreWriter w(dir + "/folder.h5", big_layer(), FeatureDtype::kFloat32, {}); });
  EXPECT_NE(message.find("folder.h5"), std::string::npos) << message;
  EXPECT_NE(message.find("folder"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(dir + "/folder.h5.partial"));

  std::ofstream(dir + "/images.csv") << "image,gene,stage_range,terms\n";
  message = test::error_text(
      [&] { FeatureStoreWriter w(dir + "/images.csv", big_layer(), FeatureDtype::kFloat32, {}); });
  EXPECT_NE(message.find("images.csv"), std::string::npos) << message;
  EXPECT_NE(message.find("not a feature store"), std::string::npos) << message;
  EXPECT_EQ(read_text_file(dir + "/images.csv"), "image,gene,stage_range,terms\n");

  // An HDF5 file that is not a store (e.g. Keras weights) is not overwritten either.
  ASSERT_EQ(test::run_status("/usr/bin/python3 -c \"import h5py; h5py.File('" + dir +
                             "/weights.h5', 'w').create_dataset('w', data=[1.0])\" 2> /dev/null"),
            0);
  message = test::error_text(
      [&] { FeatureStoreWriter w(dir + "/weights.h5", big_layer(), FeatureDtype::kFloat32, {}); });
  EXPECT_NE(message.find("not a feature store"), std::string::npos) << message;
  // Nor is a stray OUT.partial of another kind, with --restart (resume = false) or without.
  std::ofstream(dir + "/new.h5.partial") << "my notes\n";
  for (bool resume : {true, false}) {
    message = test::error_text([&] {
      FeatureStoreWriter w(dir + "/new.h5", big_layer(), FeatureDtype::kFloat32, {}, resume);
    });
    EXPECT_NE(message.find("new.h5.partial"), std::string::npos) << message;
    EXPECT_EQ(read_text_file(dir + "/new.h5.partial"), "my notes\n");
  }
  // Our own finished store is overwritten as before.
  {
    FeatureStoreWriter w(dir + "/ok.h5", big_layer(), FeatureDtype::kFloat32, {});
    append_rows(w, 0, 1);
  }
  FeatureStoreWriter again(dir + "/ok.h5", big_layer(), FeatureDtype::kFloat32, {});
  append_rows(again, 0, 2);
  again.close();
  EXPECT_EQ(FeatureStoreReader(dir + "/ok.h5").rows(), 2);
}
