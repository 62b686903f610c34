// What the report reads and computes, without Node or a browser: output folders read by column
// name (reordered and extra columns), bad folders, runs merged and compared (best layer, renamed
// clashes, mismatched stage ranges and terms), Figure 7's colour code and image choice, ROC
// thinning, base64 — each against values worked out by hand — and the embedded paper values
// against ../shared/docs/PAPER.md.
#include <gtest/gtest.h>
#include <cmath>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "ishannot/report/comparison.h"
#include "ishannot/report/figures.h"
#include "ishannot/report/paper_values.h"
#include "ishannot/report/run_outputs.h"
#include "ishannot/report/thumbnails.h"
#include "support/test_paths.h"
#include "support/test_util.h"

using namespace ishannot;

namespace {

void write(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << text;
}

// An evaluate folder with the given metrics.tsv body rows (method layer stage term fold metric
// value), written with the columns in another order and an extra stage_order column.
std::string evaluation_folder(const std::string& dir, const std::vector<std::string>& rows) {
  std::string text = "value\tstage_order\tmethod\tlayer\tstage_range\tterm\tfold\tmetric\n";
  for (const auto& row : rows) {
    std::vector<std::string> c;
    std::stringstream ss(row);
    for (std::string cell; std::getline(ss, cell, '|');) c.push_back(cell);
    text += c[6] + "\t9\t" + c[0] + "\t" + c[1] + "\t" + c[2] + "\t" + c[3] + "\t" + c[4] + "\t" +
            c[5] + "\n";
  }
  write(dir + "/metrics.tsv", text);
  write(dir + "/run.json", R"({"config": {"layers": ["b", "a"]}})");
  return dir;
}

}  // namespace

TEST(ReportInputs, ReadsEvaluateColumnsByNameWhateverTheirOrder) {
  const std::string dir = test::temp_dir("report-read");
  evaluation_folder(dir + "/run", {"TL|a|13-17|t1|0|auc|0.75", "TL|b|13-16|t1|1|C|10"});
  write(dir + "/run/skipped.tsv",
        "method\tlayer\tstage_range\tterm\tfold\treason\nTL\ta\t4-6\t\tall\ttoo few genes\n");
  EXPECT_EQ(run_kind(dir + "/run"), RunKind::kEvaluation);
  const auto run = read_evaluation_run(dir + "/run");
  ASSERT_EQ(run.metrics.size(), 2u);
  EXPECT_EQ(run.metrics[0].method, "TL");
  EXPECT_EQ(run.metrics[0].layer, "a");
  EXPECT_EQ(run.metrics[0].stage_range, "13-16");  // normalised
  EXPECT_EQ(run.metrics[0].term, "t1");
  EXPECT_EQ(run.metrics[0].metric, "auc");
  EXPECT_EQ(run.metrics[0].value, 0.75);
  EXPECT_EQ(run.metrics[1].fold, 1);
  EXPECT_EQ(run.layers, (std::vector<std::string>{"b", "a"}));  // run.json's order
  ASSERT_EQ(run.skipped.rows.size(), 1u);
  EXPECT_EQ(run.skipped.rows[0][5], "too few genes");
  EXPECT_TRUE(run.predictions.empty());  // optional files
  EXPECT_TRUE(run.roc.empty());
}

TEST(ReportInputs, BadFoldersAndFilesAreOneLineNamingThem) {
  const std::string dir = test::temp_dir("report-bad");
  std::filesystem::create_directories(dir + "/plain");
  EXPECT_NE(test::error_text([&] {
              run_kind(dir + "/plain");
            }).find("plain: not an evaluate output (metrics.tsv + run.json) nor an annotate"),
            std::string::npos);
  EXPECT_NE(test::error_text([&] { run_kind(dir + "/missing"); }).find("missing: no such folder"),
            std::string::npos);
  write(dir + "/nometric/run.json", "{}");
  write(dir + "/nometric/metrics.tsv", "method\tlayer\tstage_range\tterm\tfold\tvalue\n");
  EXPECT_EQ(test::error_text([&] { read_evaluation_run(dir + "/nometric"); }),
            dir +
                "/nometric/metrics.tsv: no column 'metric' (its columns: method, layer, "
                "stage_range, term, fold, value)");
  write(dir + "/badnumber/run.json", "{}");
  write(dir + "/badnumber/metrics.tsv",
        "method\tlayer\tstage_range\tterm\tfold\tmetric\tvalue\nTL\ta\t4-6\tt\t0\tauc\tx\n");
  EXPECT_EQ(test::error_text([&] { read_evaluation_run(dir + "/badnumber"); }),
            dir + "/badnumber/metrics.tsv:2: column 'value': 'x' is not a number");
  write(dir + "/badjson/run.json", "[1,");
  write(dir + "/badjson/metrics.tsv", "method\n");
  EXPECT_EQ(test::error_text([&] { read_evaluation_run(dir + "/badjson"); }),
            dir + "/badjson/run.json: not a JSON object");
}

TEST(ReportInputs, ReadsAnnotateOutputsInTheAgreedFormat) {
  const std::string dir = test::temp_dir("report-annotate");
  write(dir + "/a/run.json", "{}");
  write(dir + "/a/annotations.tsv",
        "image\tpath\tgene\tstage_range\tstage_order\tterm\tscore\tvotes\tmembers\tpredicted\t"
        "probability\tcall\tterm_auc\tterm_cv_folds\tterm_positive_genes\tterm_positives\t"
        "validated\n"
        "i1\tx.png\tG\t13-17\t5\tgut\t0.8\t9\t11\t1\t0.93\tyes\t0.81\t5\t4\t30\t1\n");
  write(dir + "/a/x.png", "");
  write(dir + "/a/groups.tsv",
        "gene\tstage_range\tstage_order\tterm\tscore\tpredicted\timages\trule\tprobability\tcall\t"
        "term_auc\tterm_cv_folds\tterm_positive_genes\tterm_positives\tvalidated\n"
        "G\t13-16\t5\tgut\t0.7\t1\t3\tmean\t\tuncertain\t\t0\t1\t3\t0\n");
  write(dir + "/a/heatmaps/index.tsv", "");  // empty: no heat maps
  EXPECT_EQ(run_kind(dir + "/a"), RunKind::kAnnotation);
  const auto run = read_annotation_run(dir + "/a");
  ASSERT_EQ(run.annotations.size(), 1u);
  EXPECT_EQ(run.annotations[0].path, dir + "/a/x.png");  // relative to the run folder
  EXPECT_EQ(run.annotations[0].stage_range, "13-16");
  EXPECT_EQ(run.annotations[0].votes, 9);
  EXPECT_EQ(run.annotations[0].members, 11);
  EXPECT_EQ(run.annotations[0].predicted, 1);
  EXPECT_DOUBLE_EQ(run.annotations[0].probability, 0.93);
  EXPECT_EQ(run.annotations[0].call, "yes");
  EXPECT_DOUBLE_EQ(run.annotations[0].term_auc, 0.81);
  EXPECT_TRUE(run.annotations[0].validated);
  ASSERT_EQ(run.groups.size(), 1u);
  EXPECT_EQ(run.groups[0].images, 3);
  EXPECT_EQ(run.groups[0].rule, "mean");
  EXPECT_TRUE(std::isnan(run.groups[0].probability));  // empty cell: no calibration
  EXPECT_EQ(run.groups[0].call, "uncertain");
  EXPECT_FALSE(run.groups[0].validated);
  EXPECT_TRUE(run.heatmaps.empty());
}

TEST(ReportInputs, OldColumnNamesAreRefusedWithAHint) {
  const std::string dir = test::temp_dir("report-old-names");
  write(dir + "/a/run.json", "{}");
  write(dir + "/a/annotations.tsv",
        "image\tpath\tgene\tstage_range\tstage_order\tterm\tscore\tvotes\tmembers\tlabel\n"
        "i1\tx.png\tG\t13-16\t5\tgut\t0.8\t9\t11\t1\n");
  const std::string error = test::error_text([&] { read_annotation_run(dir + "/a"); });
  EXPECT_NE(error.find(dir + "/a/annotations.tsv: written by an older ishannot"), std::string::npos)
      << error;
  EXPECT_NE(error.find("rerun"), std::string::npos) << error;
}

TEST(ReportInputs, StageRangesSortBiologically) {
  EXPECT_EQ(sorted_stage_ranges({"13-16", "4-6", "11-12", "9-10", "7-8", "4-6"}),
            (std::vector<std::string>{"4-6", "7-8", "9-10", "11-12", "13-16"}));
}

TEST(ReportComparison, BestLayerRenamedClashesAndMismatches) {
  const std::string dir = test::temp_dir("report-compare");
  // TL: layer a has term AUCs (0.8, 0.6) -> mean 0.7; layer b (0.9, 0.7) over folds
  // (0.9 = mean of 0.85 and 0.95) -> mean 0.8: b is best in 13-16.
  std::vector<EvaluationRun> runs;
  runs.push_back(read_evaluation_run(evaluation_folder(
      dir + "/tl",
      {"TL|a|13-16|t1|0|auc|0.8", "TL|a|13-16|t2|0|auc|0.6", "TL|b|13-16|t1|0|auc|0.85",
       "TL|b|13-16|t1|1|auc|0.95", "TL|b|13-16|t2|0|auc|0.7", "TL|a|4-6|t1|0|auc|0.5"})));
  // SC: 13-16 only, terms t2 and t3.
  runs.push_back(read_evaluation_run(
      evaluation_folder(dir + "/sc", {"SC|s|13-16|t2|0|auc|0.55", "SC|s|13-16|t3|0|auc|0.6"})));
  // Another TL run with layer a in 13-16 again: renamed.
  runs.push_back(
      read_evaluation_run(evaluation_folder(dir + "/again", {"TL|a|13-16|t2|0|auc|0.7"})));
  const Comparison c = compare_runs(runs);
  EXPECT_EQ(c.methods, (std::vector<std::string>{"TL", "SC", "TL (again)"}));
  EXPECT_EQ(runs[2].metrics[0].method, "TL (again)");
  EXPECT_EQ(c.stage_ranges, (std::vector<std::string>{"4-6", "13-16"}));
  EXPECT_EQ(c.layer_shown("TL", "13-16"), "b");
  EXPECT_EQ(c.layer_shown("TL", "4-6"), "a");
  EXPECT_EQ(c.layer_shown("SC", "4-6"), "");
  const SummaryRow* b = c.find("TL", "b", "13-16", "auc");
  ASSERT_NE(b, nullptr);
  EXPECT_NEAR(b->over_terms.mean, 0.8, 1e-15);
  EXPECT_NEAR(b->over_terms.std, std::sqrt(0.02), 1e-15);  // (0.9 - 0.8)^2 + (0.7 - 0.8)^2, n - 1
  EXPECT_EQ(c.shared_terms("13-16"), (std::vector<std::string>{"t2"}));
  const std::string notes = [&] {
    std::string all;
    for (const auto& n : c.notes) all += n + "\n";
    return all;
  }();
  EXPECT_NE(notes.find("shown as 'TL (again)'"), std::string::npos) << notes;
  EXPECT_NE(notes.find("stage range 4-6 has results from TL only"), std::string::npos) << notes;
  EXPECT_NE(notes.find("13-16: SC has terms the other methods lack (not in Figures 5-7): t3"),
            std::string::npos)
      << notes;
  // A fixed layer, and bad ones.
  ComparisonParams fixed;
  fixed.layers["TL"] = "a";
  EXPECT_EQ(compare_runs(runs, fixed).layer_shown("TL", "13-16"), "a");
  fixed.layers["TL"] = "zz";
  EXPECT_EQ(test::error_text([&] { compare_runs(runs, fixed); }),
            "--layer TL=zz: method TL has layers b, a");
}

TEST(ReportFigures, AgreementColourCodeAndTheImagesWithTheMostTerms) {
  // The paper's code, by hand: first right & second wrong -> green (positive) / blue (negative).
  EXPECT_EQ(agreement_of(1, 1, 0), Agreement::kFirstPositive);
  EXPECT_EQ(agreement_of(0, 0, 1), Agreement::kFirstNegative);
  EXPECT_EQ(agreement_of(1, 0, 1), Agreement::kSecondPositive);
  EXPECT_EQ(agreement_of(0, 1, 0), Agreement::kSecondNegative);
  EXPECT_EQ(agreement_of(1, 1, 1), Agreement::kSame);
  EXPECT_EQ(agreement_of(1, 0, 0), Agreement::kSame);  // both wrong: same prediction
  // Images: x has 2 positive terms, y 1, z 0, w predicted by A only.
  std::vector<MethodPrediction> p;
  auto add = [&](const std::string& method, const std::string& id, const std::string& term,
                 int label, int vote) {
    PredictionRow row;
    row.id = id;
    row.gene = "g" + id;
    row.stage_range = "13-16";
    row.layer = "L";
    row.term = term;
    row.label = label;
    row.vote = vote;
    p.push_back({method, row});
  };
  for (const std::string m : {"A", "B"}) {
    add(m, "x", "t1", 1, m == "A" ? 1 : 0);
    add(m, "x", "t2", 1, 1);
    add(m, "y", "t1", 0, m == "A" ? 1 : 0);
    add(m, "y", "t2", 1, 0);
    add(m, "z", "t1", 0, 0);
    add(m, "z", "t2", 0, 0);
  }
  add("A", "w", "t1", 1, 1);
  add("A", "w", "t2", 1, 1);
  const auto map = agreement_map(p, {"A", "L"}, {"B", "L"}, "13-16", 2);
  EXPECT_EQ(map.terms, (std::vector<std::string>{"t1", "t2"}));
  EXPECT_EQ(map.images_available, 3);  // w is not predicted by B
  ASSERT_EQ(map.images.size(), 2u);
  EXPECT_EQ(map.images[0].id, "x");
  EXPECT_EQ(map.images[0].terms, 2);
  EXPECT_EQ(map.images[1].id, "y");
  ASSERT_EQ(map.cells.size(), 4u);
  EXPECT_EQ(map.cells[0].agreement, Agreement::kFirstPositive);   // x t1
  EXPECT_EQ(map.cells[1].agreement, Agreement::kSame);            // x t2
  EXPECT_EQ(map.cells[2].agreement, Agreement::kSecondNegative);  // y t1: A says 1, truth 0
  EXPECT_EQ(map.cells[3].agreement, Agreement::kSame);            // y t2
}

TEST(ReportFigures, RocThinningKeepsEndsAndSteps) {
  std::vector<RocRow> curve;
  for (int i = 0; i <= 10; ++i)
    curve.push_back({"m", "l", "s", "t", 1.0 - i / 10.0, i / 1000.0, i / 10.0});
  // Steps of 0.101 in fpr + tpr: every point; steps of at least 0.25: 0, 3 (0.303), 6, 9, 10.
  EXPECT_EQ(thin_roc(curve, 0.1).size(), 11u);
  const auto thin = thin_roc(curve, 0.25);
  std::vector<double> tpr;
  for (const auto& r : thin) tpr.push_back(r.tpr);
  EXPECT_EQ(tpr, (std::vector<double>{0.0, 0.3, 0.6, 0.9, 1.0}));
}

TEST(ReportFigures, Base64AsRfc4648) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
}

TEST(ReportFigures, PaperValuesEqualThePapersTable) {
  const std::string paper = test::source_dir() + "/../shared/docs/PAPER.md";
  if (!std::filesystem::exists(paper)) GTEST_SKIP() << paper << " not found: skipping";
  // Rows "| AUC | TL+MTL | 0.8493 | ... |" of the Markdown table, parsed here.
  std::ifstream in(paper);
  int checked = 0;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, '|');) {
      cell.erase(0, cell.find_first_not_of(' '));
      cell.erase(cell.find_last_not_of(' ') + 1);
      cells.push_back(cell);
    }
    if (cells.size() != 8 || (cells[1] != "AUC" && cells[1] != "accuracy" &&
                              cells[1] != "sensitivity" && cells[1] != "specificity"))
      continue;
    const std::string metric = cells[1] == "AUC" ? "auc" : cells[1];
    const std::vector<std::string> stages = {"4-6", "7-8", "9-10", "11-12", "13-16"};
    for (size_t s = 0; s < 5; ++s) {
      bool found = false;
      for (const auto& v : paper_table2())
        if (v.metric == metric && v.method == cells[2] && v.stage_range == stages[s]) {
          EXPECT_EQ(v.mean, std::stod(cells[3 + s])) << line;
          found = true;
          ++checked;
        }
      EXPECT_TRUE(found) << line;
    }
  }
  EXPECT_EQ(checked, 30);
  EXPECT_EQ(paper_table2().size(), 30u);
}
