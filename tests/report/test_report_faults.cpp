// Issue 22 against report: impossible values in a run's TSVs (an AUC of -7.5, NaN, a score of
// 1e300) are named with file and line instead of being plotted; heat-map paths outside heatmaps/
// (absolute, "..") are refused instead of embedded; a device (/dev/zero) or a FIFO named as an
// image is not read (it would never end); a second report keeps the user's own *.svg and
// *.vl.json in OUT/figures/. References: values written here by hand.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/image/image.h"
#include "ishannot/report/comparison.h"
#include "ishannot/report/report.h"
#include "ishannot/report/run_outputs.h"
#include "ishannot/report/thumbnails.h"
#include "report/report_fixtures.h"
#include "report/report_steps.h"
#include "support/test_paths.h"
#include "support/test_util.h"

using namespace ishannot;
namespace fs = std::filesystem;

namespace {

// An evaluate folder whose metrics.tsv holds one row with this metric and value.
std::string evaluation_with(const std::string& dir, const std::string& metric,
                            const std::string& value) {
  fs::create_directories(dir);
  std::ofstream(dir + "/run.json") << "{}\n";
  std::ofstream(dir + "/metrics.tsv")
      << "method\tlayer\tstage_range\tterm\tfold\tmetric\tvalue\n"
      << "TL\tres4f\t13-16\tbrain\t0\tauc\t0.75\n"
      << "TL\tres4f\t13-16\tgut\t0\t" << metric << "\t" << value << "\n";
  return dir;
}

// An annotate folder with one annotation of this score and one heat map of this file.
std::string annotation_with(const std::string& dir, const std::string& score,
                            const std::string& heatmap_file) {
  fs::create_directories(dir + "/heatmaps");
  std::ofstream(dir + "/run.json") << "{}\n";
  std::ofstream(dir + "/annotations.tsv")
      << "image\tpath\tgene\tstage_range\tstage_order\tterm\tscore\tvotes\tmembers\tpredicted"
         "\tprobability\tcall\tterm_auc\tterm_cv_folds\tterm_positive_genes\tterm_positives"
         "\tvalidated\n"
      << "a\t/x/a.png\tg\t13-16\t6\tbrain\t" << score << "\t3\t5\t1\t0.9\tyes\t0.8\t5\t4\t30\t1\n";
  std::ofstream(dir + "/heatmaps/index.tsv") << "image\tstage_range\tterm\tscore\tfile\n"
                                             << "a\t13-16\tbrain\t0.5\t" << heatmap_file << "\n";
  return dir;
}

}  // namespace

TEST(ReportFaults, ImpossibleMetricValuesAreNamedWithFileAndLine) {
  const std::string dir = test::temp_dir("report-values");
  EXPECT_EQ(
      test::error_text([&] { read_evaluation_run(evaluation_with(dir + "/ok", "C", "100")); }), "");
  for (const auto& [metric, value] : std::vector<std::pair<std::string, std::string>>{
           {"auc", "-7.5"}, {"auc", "nan"}, {"group_accuracy", "1.5"}, {"C", "inf"}}) {
    const std::string run = evaluation_with(dir + "/" + metric + value, metric, value);
    const std::string message = test::error_text([&] { read_evaluation_run(run); });
    EXPECT_EQ(message.find(run + "/metrics.tsv:3: column 'value': '" + value + "'"), 0u) << message;
  }
}

TEST(ReportFaults, ImpossibleScoresAndHeatMapsOutsideTheirFolderAreRefused) {
  const std::string dir = test::temp_dir("report-annotations");
  EXPECT_EQ(test::error_text([&] {
              const auto run =
                  read_annotation_run(annotation_with(dir + "/ok", "0.9", "13-16/a.png"));
              EXPECT_EQ(run.heatmaps.at(0).file, dir + "/ok/heatmaps/13-16/a.png");
            }),
            "");
  for (const std::string score : {"nan", "1e300", "-0.5"}) {
    const std::string run = annotation_with(dir + "/s" + score, score, "13-16/a.png");
    const std::string message = test::error_text([&] { read_annotation_run(run); });
    EXPECT_EQ(message.find(run + "/annotations.tsv:2: column 'score'"), 0u) << message;
  }
  for (const std::string file : {"/etc/passwd", "../../secret.png", "13-16/../../x.png"}) {
    const std::string run = annotation_with(dir + "/f" + std::to_string(file.size()), "0.5", file);
    const std::string message = test::error_text([&] { read_annotation_run(run); });
    EXPECT_EQ(message.find(run + "/heatmaps/index.tsv:2: column 'file'"), 0u) << message;
    EXPECT_NE(message.find("not a file inside heatmaps/"), std::string::npos) << message;
  }
}

// Item 10: a run naming /dev/zero as an image made report grow to 11 GB in 120 s.
TEST(ReportFaults, DevicesAndFifosAreNotReadAsImages) {
  const std::string dir = test::temp_dir("report-devices");
  const std::string fifo = dir + "/fifo.png";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const auto start = std::chrono::steady_clock::now();
  for (const std::string& path : {std::string("/dev/zero"), fifo}) {
    const std::string message = test::error_text([&] { read_image_bgr(path); });
    EXPECT_NE(message.find("not a regular file"), std::string::npos) << message;
    Thumbnails thumbnails;
    EXPECT_EQ(thumbnails.data_uri(path), "");
    EXPECT_EQ(thumbnails.failures(), 1);
  }
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 10.0);
}

// Low: a second report deleted the user's own *.svg / *.vl.json in OUT/figures/.
TEST(ReportFaults, ASecondReportKeepsTheUsersOwnFigureFiles) {
  ISHANNOT_SKIP_WITHOUT_REPORT_TOOLS();
  const std::string dir = test::temp_dir("report-user-files");
  const std::string manifest = test::write_fixture_dataset(dir + "/data");
  ASSERT_TRUE(test::write_fixture_evaluations(dir, manifest));
  const std::string report = test::ishannot_binary() + " --quiet report --out " + dir +
                             "/r --runs " + dir + "/eval-tl > /dev/null 2>&1";
  ASSERT_EQ(test::run_command(report), 0);
  ASSERT_TRUE(fs::exists(dir + "/r/figures/table2.svg"));
  std::ofstream(dir + "/r/figures/my plot.svg") << "<svg>mine</svg>";
  std::ofstream(dir + "/r/figures/mine.vl.json") << "{}";
  std::ofstream(dir + "/r/figures/figure9-old.svg") << "an earlier report's? no: not listed";
  ASSERT_EQ(test::run_command(report), 0);
  EXPECT_EQ(read_text_file(dir + "/r/figures/my plot.svg"), "<svg>mine</svg>");
  EXPECT_EQ(read_text_file(dir + "/r/figures/mine.vl.json"), "{}");
  EXPECT_TRUE(fs::exists(dir + "/r/figures/figure9-old.svg"));
  EXPECT_TRUE(fs::exists(dir + "/r/figures/table2.svg"));
}

// Low: runs sharing no term were told "no roc.tsv rows" (they had rows).
TEST(ReportFaults, RunsThatShareNoTermSaySoInsteadOfNoRocRows) {
  const std::string dir = test::temp_dir("report-no-shared-term");
  auto write = [&](const std::string& name, const std::string& method, const std::string& term) {
    const std::string run = dir + "/" + name;
    fs::create_directories(run);
    std::ofstream(run + "/run.json") << "{}\n";
    std::ofstream(run + "/metrics.tsv")
        << "method\tlayer\tstage_range\tterm\tfold\tmetric\tvalue\n"
        << method << "\tres4f\t13-16\t" << term << "\t0\tauc\t0.8\n";
    std::ofstream(run + "/roc.tsv") << "method\tlayer\tstage_range\tterm\tthreshold\tfpr\ttpr\n"
                                    << method << "\tres4f\t13-16\t" << term << "\tinf\t0\t0\n"
                                    << method << "\tres4f\t13-16\t" << term << "\t0.5\t0.2\t0.9\n"
                                    << method << "\tres4f\t13-16\t" << term << "\t0\t1\t1\n";
    return run;
  };
  std::vector<EvaluationRun> runs = {read_evaluation_run(write("a", "TL", "brain")),
                                     read_evaluation_run(write("b", "SC", "gut"))};
  const Comparison c = compare_runs(runs);
  Thumbnails thumbnails;
  std::vector<std::string> notes;
  detail::evaluation_figures(runs, c, ReportParams{}, thumbnails, notes);
  std::string all;
  for (const auto& n : notes) all += n + "\n";
  EXPECT_NE(all.find("ROC curves, 13-16: the runs share no term"), std::string::npos) << all;
  EXPECT_EQ(all.find("no roc.tsv rows"), std::string::npos) << all;
}
