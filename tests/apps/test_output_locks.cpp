// Issue 22 items 4 and 6: lock first, then restart, in every resumable command. While another
// process holds an output's lock (util-linux flock(1), an independent locker), `train`,
// `annotate` and `merge` with --restart exit 1 naming the holder's pid and leave every file of
// the interrupted run as it was (before, --restart deleted them first and the two runs mixed).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "ishannot/common/fs_util.h"
#include "support/cli_util.h"
#include "support/store_util.h"
#include "support/test_paths.h"

using namespace ishannot;
namespace fs = std::filesystem;

namespace {

// Holds an exclusive flock on `path` from another process until the object goes.
class Holder {
 public:
  Holder(const std::string& path, const std::string& dir) : path_(path) {
    const std::string pid_file = dir + "/holder.pid";
    test::run_status("flock -x -F " + path + " sleep 60 > /dev/null 2>&1 & echo $! > " + pid_file);
    const std::string text = read_text_file(pid_file);
    pid_ = text.substr(0, text.find('\n'));
    for (int i = 0; i < 200 && test::run_status("flock -n " + path + " true") == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ~Holder() { test::run_status("kill " + pid_ + " 2> /dev/null"); }
  const std::string& pid() const { return pid_; }

 private:
  std::string path_, pid_;
};

struct CliRun {
  int code;
  std::string err;
};

CliRun run(const std::string& args, const std::string& dir) {
  const int code = test::run_status(test::cli() + args + " 2> " + dir + "/err.txt");
  return {code, read_text_file(dir + "/err.txt")};
}

void write(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << text;
}

#define SKIP_WITHOUT_FLOCK()                                   \
  do {                                                         \
    if (test::run_status("command -v flock > /dev/null") != 0) \
      GTEST_SKIP() << "util-linux flock(1) not installed";     \
  } while (0)

}  // namespace

TEST(OutputLocks, ASecondTrainWithRestartIsRefusedBeforeItDeletesAnything) {
  SKIP_WITHOUT_FLOCK();
  const std::string dir = test::temp_dir("lock-train");
  const std::string manifest = test::write_small_manifest(dir);
  test::write_store_for(dir + "/f.h5", read_manifest(manifest, false));
  write(dir + "/m.h5.partial", "the first run's partial bundle");
  write(dir + "/m.h5.features.h5.partial", "the first run's partial features");
  const Holder holder(dir + "/m.h5.partial", dir);
  const CliRun r = run("train --data " + manifest + " --features " + dir + "/f.h5 --out " + dir +
                           "/m.h5 --folds 0 --c-grid 1 --models 3 --view all --restart",
                       dir);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("pid " + holder.pid()), std::string::npos) << r.err;
  EXPECT_EQ(read_text_file(dir + "/m.h5.partial"), "the first run's partial bundle");
  EXPECT_EQ(read_text_file(dir + "/m.h5.features.h5.partial"), "the first run's partial features");
}

TEST(OutputLocks, ASecondAnnotateWithRestartIsRefusedBeforeItDeletesAnything) {
  SKIP_WITHOUT_FLOCK();
  const std::string dir = test::temp_dir("lock-annotate");
  const std::string manifest = test::write_small_manifest(dir);
  test::write_store_for(dir + "/f.h5", read_manifest(manifest, false));
  ASSERT_EQ(
      test::run_status(test::cli() + "train --data " + manifest + " --features " + dir +
                       "/f.h5 --out " + dir + "/m.h5 --folds 0 --c-grid 1 --models 3 --view all"),
      0);
  const std::string out = dir + "/annotated";
  write(out + "/annotate.progress", "{\"the first run's\": 1}\n");
  write(out + "/annotations.tsv.partial", "the first run's rows\n");
  const Holder holder(out + "/annotate.lock", dir);
  const CliRun r = run("annotate --model " + dir + "/m.h5 --data " + manifest + " --features " +
                           dir + "/f.h5 --out " + out + " --restart",
                       dir);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("pid " + holder.pid()), std::string::npos) << r.err;
  EXPECT_EQ(read_text_file(out + "/annotate.progress"), "{\"the first run's\": 1}\n");
  EXPECT_EQ(read_text_file(out + "/annotations.tsv.partial"), "the first run's rows\n");
}

TEST(OutputLocks, ASecondMergeWithRestartIsRefusedBeforeItDeletesAnything) {
  SKIP_WITHOUT_FLOCK();
  const std::string dir = test::temp_dir("lock-merge");
  const std::string manifest = test::write_small_manifest(dir);
  test::write_store_for(dir + "/a.h5", read_manifest(manifest, false));
  write(dir + "/m.h5.partial", "the first run's partial store");
  const Holder holder(dir + "/m.h5.partial", dir);
  const CliRun r = run("merge " + dir + "/a.h5 --out " + dir + "/m.h5 --restart", dir);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("pid " + holder.pid()), std::string::npos) << r.err;
  EXPECT_EQ(read_text_file(dir + "/m.h5.partial"), "the first run's partial store");
}
