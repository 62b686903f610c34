// evaluate's outputs through the CLI (issues 15.6, 16.3, 16.4, 16.6): the summary says what each
// cell averaged, skipped.tsv holds the real skips with metrics.tsv's key columns while routine
// notes go to run.json, every TSV with a stage range sorts by stage_order, and the outputs of a
// run appear together or not at all (a write failure under a file-size limit, kill -9 at several
// points). References: the manifest written here (how many terms and images there are), the
// fixed biological order of the stage ranges, and the files of an earlier, uninterrupted run.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "ishannot/common/fs_util.h"
#include "ishannot/data/dataset.h"
#include "support/cli_util.h"
#include "support/store_util.h"
#include "support/test_util.h"

using namespace ishannot;
namespace fs = std::filesystem;

namespace {

const char* const kOutputs[] = {"metrics.tsv", "summary.md",  "summary.tsv", "predictions.tsv",
                                "roc.tsv",     "skipped.tsv", "columns.tsv", "run.json"};

std::string evaluate_command(const std::string& manifest, const std::string& store,
                             const std::string& out, const std::string& extra = "") {
  return test::cli() + "evaluate --data " + manifest + " --features " + store +
         " --folds 3 --inner-folds 2 --c-grid 0.1,1 --models 3 --inner-models 1 " + extra +
         " --out " + out;
}

std::map<std::string, std::string> read_outputs(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const char* f : kOutputs)
    if (fs::exists(dir + "/" + f)) files[f] = read_text_file(dir + "/" + f);
  return files;
}

}  // namespace

// 16.3: summary.md says over how many terms (of the requested top-k) and test images a cell is
// a mean, and marks cells over fewer than half of the requested terms.
TEST(EvaluateOutputs, SummaryCellsSayWhatTheyAveraged) {
  const std::string dir = test::temp_dir("eval-summary-counts");
  const std::string manifest = test::write_small_manifest(dir);  // 4 terms, 36 images
  test::write_store_for(dir + "/f.h5", read_manifest(manifest, false));
  ASSERT_EQ(test::run_status(evaluate_command(manifest, dir + "/f.h5", dir + "/k4", "--top-k 4") +
                             " > /dev/null"),
            0);
  ASSERT_EQ(
      test::run_status(evaluate_command(manifest, dir + "/f.h5", dir + "/k10") + " > /dev/null"),
      0);
  const std::string k4 = read_text_file(dir + "/k4/summary.md");
  const std::string k10 = read_text_file(dir + "/k10/summary.md");
  EXPECT_NE(k4.find("(4/4 terms, 36 images)"), std::string::npos) << k4;
  EXPECT_EQ(k4.find("fewer than half"), std::string::npos) << k4;
  EXPECT_NE(k10.find("(4/10 terms, 36 images) *"), std::string::npos) << k10;
  EXPECT_NE(k10.find("fewer than half"), std::string::npos) << k10;
  for (const auto& row : test::read_tsv(dir + "/k10/summary.tsv")) {
    EXPECT_EQ(row.at("terms"), "4");
    EXPECT_EQ(row.at("terms_requested"), "10");
    EXPECT_EQ(row.at("test_images"), "36");
  }
}

// 16.4 and 16.6: skipped.tsv has metrics.tsv's key columns (fold a number or empty) and only
// real skips; routine notes (C fell back) are in run.json; stage_order sorts the stage ranges.
TEST(EvaluateOutputs, SkipsNotesAndStageOrder) {
  const std::string dir = test::temp_dir("eval-skips");
  // Two stage ranges; 4 genes each: inner CV on 2-3 training genes is often impossible.
  const std::string manifest = test::write_small_manifest(dir, 4, 3, {"13-16", "4-6"});
  test::write_store_for(dir + "/f.h5", read_manifest(manifest, false));
  ASSERT_EQ(test::run_status(test::ishannot_binary() + " --progress none evaluate --data " +
                             manifest + " --features " + dir +
                             "/f.h5 --folds 3 --inner-folds 3 "
                             "--models 3 --inner-models 1 --out " +
                             dir + "/out > /dev/null 2> " + dir + "/err.txt"),
            0)
      << read_text_file(dir + "/err.txt");
  const std::string skipped = read_text_file(dir + "/out/skipped.tsv");
  EXPECT_EQ(skipped.substr(0, skipped.find('\n')),
            "method\tlayer\tstage_range\tstage_order\tterm\tfold\treason");
  EXPECT_EQ(skipped.find("fallback"), std::string::npos) << skipped;
  for (const auto& row : test::read_tsv(dir + "/out/skipped.tsv")) {
    EXPECT_EQ(row.at("method"), "TL");
    const std::string& fold = row.at("fold");
    EXPECT_TRUE(fold.empty() || fold.find_first_not_of("0123456789") == std::string::npos) << fold;
  }
  const auto run = nlohmann::json::parse(read_text_file(dir + "/out/run.json"));
  ASSERT_TRUE(run.contains("notes")) << run.dump(1);
  int fallbacks = 0;
  for (const auto& note : run.at("notes"))
    fallbacks += note.at("reason").get<std::string>().find("fallback") != std::string::npos;
  EXPECT_GT(fallbacks, 0);
  // One terminal line per kind of skip or note, however many there are.
  const std::string err = read_text_file(dir + "/err.txt");
  int kind_lines = 0;
  for (size_t at = 0; at < err.size(); at = err.find('\n', at) + 1) {
    kind_lines += err.compare(at, 8, "skipped ") == 0 || err.compare(at, 5, "note ") == 0;
    if (err.find('\n', at) == std::string::npos) break;
  }
  EXPECT_GT(kind_lines, 1) << err;
  EXPECT_LT(kind_lines, 8) << err;
  EXPECT_GT(fallbacks + static_cast<int>(test::read_tsv(dir + "/out/skipped.tsv").size()), 12);

  const std::map<std::string, std::string> order = {{"1-3", "1"},  {"4-6", "2"},   {"7-8", "3"},
                                                    {"9-10", "4"}, {"11-12", "5"}, {"13-16", "6"}};
  for (const char* tsv : {"metrics.tsv", "summary.tsv", "predictions.tsv", "roc.tsv"}) {
    const auto rows = test::read_tsv(dir + "/out/" + tsv);
    ASSERT_FALSE(rows.empty()) << tsv;
    std::set<std::string> stages;
    for (const auto& row : rows) {
      ASSERT_TRUE(row.count("stage_order")) << tsv;
      EXPECT_EQ(row.at("stage_order"), order.at(row.at("stage_range"))) << tsv;
      stages.insert(row.at("stage_range"));
    }
    EXPECT_EQ(stages, (std::set<std::string>{"4-6", "13-16"})) << tsv;
  }
  // columns.tsv documents every column of every TSV (true_label is the truth, predicted the vote).
  std::set<std::pair<std::string, std::string>> documented;
  for (const auto& c : test::read_tsv(dir + "/out/columns.tsv")) {
    EXPECT_FALSE(c.at("meaning").empty()) << c.at("file") << " " << c.at("column");
    documented.insert({c.at("file"), c.at("column")});
  }
  for (const char* tsv :
       {"metrics.tsv", "summary.tsv", "predictions.tsv", "roc.tsv", "skipped.tsv"}) {
    const std::string text = read_text_file(dir + "/out/" + tsv);
    std::stringstream header(text.substr(0, text.find('\n')));
    for (std::string column; std::getline(header, column, '\t');)
      EXPECT_TRUE(documented.count({tsv, column})) << tsv << " " << column;
  }
  const std::string predictions = read_text_file(dir + "/out/predictions.tsv");
  EXPECT_EQ(predictions.substr(0, predictions.find('\n')),
            "method\tlayer\tstage_range\tstage_order\tterm\tfold\tid\tgene\ttrue_label\tscore\t"
            "predicted");
}

// 15.6: a run over an earlier run's folder that fails while writing (file-size limit, SIGXFSZ
// ignored so that write() fails instead) leaves the earlier run's files, all of them, untouched.
TEST(EvaluateOutputs, AFailedWriteLeavesTheEarlierRunWhole) {
  const std::string dir = test::temp_dir("eval-all-or-nothing");
  const std::string manifest = test::write_small_manifest(dir);
  test::write_store_for(dir + "/f.h5", read_manifest(manifest, false));
  ASSERT_EQ(
      test::run_status(evaluate_command(manifest, dir + "/f.h5", dir + "/out") + " > /dev/null"),
      0);
  const auto before = read_outputs(dir + "/out");
  ASSERT_EQ(before.size(), std::size(kOutputs));
  // Another seed (other folds, other numbers); 6 KiB per file: metrics.tsv fits, predictions no.
  const std::string limited =
      "bash -c \"ulimit -f 6; trap '' XFSZ; " + test::ishannot_binary() + " --quiet --seed 99 " +
      evaluate_command(manifest, dir + "/f.h5", dir + "/out").substr(test::cli().size()) +
      " > /dev/null 2> " + dir + "/err.txt\"";
  EXPECT_EQ(test::run_status(limited), 1) << read_text_file(dir + "/err.txt");
  const std::string err = read_text_file(dir + "/err.txt");
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_EQ(read_outputs(dir + "/out"), before);
  for (const auto& entry : fs::directory_iterator(dir))
    EXPECT_EQ(entry.path().string().find("partial"), std::string::npos) << entry.path();
}

// kill -9 at several points of a run: the folder is either absent or a complete earlier-looking
// run, never a mix; the rerun completes and equals an uninterrupted run.
TEST(EvaluateOutputs, KillNineLeavesNothingHalfWrittenAndTheRerunMatches) {
  const std::string dir = test::temp_dir("eval-kill");
  const std::string manifest = test::write_small_manifest(dir, 40, 4);
  test::write_store_for(dir + "/f.h5", read_manifest(manifest, false));
  const std::string args = " evaluate --data " + manifest + " --features " + dir +
                           "/f.h5 --folds 4 --inner-folds 3 --models 11 --inner-models 3 --out ";
  const auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(test::run_status(test::cli() + args + dir + "/ref > /dev/null"), 0);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto reference = read_outputs(dir + "/ref");
  for (double at : {0.2, 0.6, 0.95}) {
    const std::string out = dir + "/run" + std::to_string(static_cast<int>(at * 100));
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      execl("/bin/sh", "sh", "-c", ("exec " + test::cli() + args + out + " > /dev/null").c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(at * seconds));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    if (fs::exists(out)) {
      const auto files = read_outputs(out);
      // Absent, or complete (the run finished before the kill).
      if (!files.empty()) {
        EXPECT_EQ(files.size(), reference.size()) << out;
        EXPECT_EQ(files.at("metrics.tsv"), reference.at("metrics.tsv")) << out;
      }
    }
    ASSERT_EQ(test::run_status(test::cli() + args + out + " > /dev/null"), 0);
    const auto rerun = read_outputs(out);
    EXPECT_EQ(rerun.at("metrics.tsv"), reference.at("metrics.tsv"));
    EXPECT_EQ(rerun.at("predictions.tsv"), reference.at("predictions.tsv"));
    EXPECT_FALSE(fs::exists(out + ".partial")) << "stale staging folder left after the rerun";
  }
}
