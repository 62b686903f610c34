// `ishannot report` end to end: evaluate runs made here (TL and TL+MTL with three layers, SC with
// one layer and one stage range), an annotate output in the agreed format, the report written
// through the CLI, then loaded in headless Chromium (tests/report/browser_check.js): no console
// error, no network request, every figure drawn with marks, no broken image, a screenshot. The
// plotted numbers — read back from the marks the browser drew — are checked against the TSVs
// they came from, computed here independently: Table 2 and Figures 3-6 against metrics.tsv,
// Figure 7 against predictions.tsv, the ROC curves against roc.tsv, the group map against
// groups.tsv. Bad input through the CLI: a folder that is no output, empty runs, no node, no vega.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "ishannot/common/fs_util.h"
#include "report/report_fixtures.h"
#include "support/test_paths.h"
#include "support/test_util.h"

using namespace ishannot;
using nlohmann::json;

namespace {

using Key =
    std::tuple<std::string, std::string, std::string, std::string>;  // method layer stage term

std::string chromium_binary() {
  for (const char* name : {"chromium", "chromium-browser"})
    if (test::run_command(std::string("command -v ") + name + " > /dev/null 2>&1") == 0)
      return name;
  return "";
}

std::string S(const json& value) {
  return value.get<std::string>();
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / v.size();
}

double sample_std(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  const double m = mean(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / (v.size() - 1));
}

// Per (method, layer, stage, term) and metric: the values over folds, from metrics.tsv files.
std::map<std::string, std::map<Key, std::vector<double>>> read_metrics(
    const std::vector<std::string>& runs) {
  std::map<std::string, std::map<Key, std::vector<double>>> out;
  for (const auto& run : runs)
    for (auto& r : test::read_tsv(run + "/metrics.tsv"))
      out[r["metric"]][{r["method"], r["layer"], r["stage_range"], r["term"]}].push_back(
          std::stod(r["value"]));
  return out;
}

// (method, layer, stage) -> per-term means over folds of one metric.
std::map<std::tuple<std::string, std::string, std::string>, std::vector<double>> term_means(
    const std::map<Key, std::vector<double>>& values) {
  std::map<std::tuple<std::string, std::string, std::string>, std::vector<double>> out;
  for (const auto& [key, v] : values)
    out[{std::get<0>(key), std::get<1>(key), std::get<2>(key)}].push_back(mean(v));
  return out;
}

// The data the browser drew for one figure, and whether it was drawn.
const json& figure(const json& result, const std::string& id) {
  for (const auto& f : result["figures"])
    if (f["id"] == id) return f;
  static const json none;
  ADD_FAILURE() << "figure " << id << " not on the page";
  return none;
}

std::string cli_error(const std::string& command, int* code) {
  const std::string err = test::temp_dir("report-err") + "/err.txt";
  *code = test::run_command(command + " > /dev/null 2> " + err);
  return read_text_file(err);
}

}  // namespace

class ReportEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::temp_dir("report-e2e");
    manifest_ = test::write_fixture_dataset(dir_ + "/data");
    ASSERT_TRUE(test::write_fixture_evaluations(dir_, manifest_));
    test::write_fixture_annotations(dir_ + "/annotate", dir_ + "/data");
  }
  std::string dir_, manifest_;
};

TEST_F(ReportEndToEnd, FiguresInAHeadlessBrowserEqualTheTsvs) {
  ISHANNOT_SKIP_WITHOUT_REPORT_TOOLS();
  const std::vector<std::string> runs = {dir_ + "/eval-tl", dir_ + "/eval-mtl", dir_ + "/eval-sc"};
  const std::string report = dir_ + "/report";
  ASSERT_EQ(test::run_command(test::ishannot_binary() + " report --runs " + runs[0] + " " +
                              runs[1] + " " + runs[2] + " " + dir_ +
                              "/annotate --agreement-images 20 --title 'TL vs TL+MTL vs SC "
                              "(test fixture)' --out " +
                              report + " > " + dir_ + "/stdout.txt 2> " + dir_ + "/stderr.txt"),
            0)
      << read_text_file(dir_ + "/stderr.txt");
  EXPECT_EQ(read_text_file(dir_ + "/stdout.txt"), report + "/index.html\n");
  EXPECT_EQ(read_text_file(dir_ + "/stderr.txt").find("vega warning"), std::string::npos)
      << read_text_file(dir_ + "/stderr.txt");

  // The page: self-contained, the mismatch noted.
  const std::string html = read_text_file(report + "/index.html");
  EXPECT_NE(html.find("Content-Security-Policy\" content=\"default-src 'none'"), std::string::npos);
  for (const char* external : {"src=\"http", "href=\"http", "url(http", "<script src", "<link "})
    EXPECT_EQ(html.find(external), std::string::npos) << external;
  EXPECT_NE(html.find("stage range 11-12 has results from TL, TL+MTL only"), std::string::npos);
  for (const char* id : {"table2", "figure3-4-layers", "figure5-methods", "figure6-terms",
                         "figure7-11-12", "figure7-13-16", "roc-11-12", "roc-13-16", "groups-1"}) {
    const std::string svg = read_text_file(report + "/figures/" + id + ".svg");
    EXPECT_EQ(svg.rfind("<svg", 0), 0u) << id;
    EXPECT_NE(svg.find("role-mark"), std::string::npos) << id;
  }

  const std::string chromium = chromium_binary();
  if (chromium.empty()) {
    const char* require = std::getenv("ISHANNOT_REQUIRE_REPORT_TOOLS");
    if (require && std::string(require) == "1") FAIL() << "chromium missing";
    GTEST_SKIP() << "chromium not installed (scripts/setup.sh installs it): skipping the browser "
                    "half of the report test";
  }
  const std::string screenshot =
      (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "report-screenshot.png")
          .string();
  ASSERT_EQ(test::run_command("node " + test::source_dir() + "/tests/report/browser_check.js " +
                              chromium + " " + report + "/index.html " + dir_ + "/browser.json " +
                              screenshot),
            0);
  const json result = json::parse(read_text_file(dir_ + "/browser.json"));
  EXPECT_TRUE(result["console_errors"].empty()) << result["console_errors"].dump(1);
  for (const auto& url : result["requests"]) {
    const std::string u = url;
    EXPECT_TRUE(u.rfind("file:", 0) == 0 || u.rfind("data:", 0) == 0) << "network request: " << u;
  }
  EXPECT_TRUE(result["ready_error"].is_null()) << result["ready_error"];
  EXPECT_TRUE(result["broken_images"].empty()) << result["broken_images"].dump();
  EXPECT_GE(result["images"].get<int>(), 6);  // the gallery's thumbnails and heat maps
  ASSERT_EQ(result["figures"].size(), 9u);
  for (const auto& f : result["figures"]) {
    EXPECT_TRUE(f["interactive"].get<bool>()) << f["id"];
    EXPECT_GT(f["marks"].get<int>(), 0) << f["id"];
    EXPECT_FALSE(f["data"].empty()) << f["id"];
  }
  EXPECT_GT(std::filesystem::file_size(screenshot), 10000u);
  std::cout << "screenshot: " << screenshot << "\n";

  const auto metrics = read_metrics(runs);
  const auto auc_means = term_means(metrics.at("auc"));
  // The layer shown per method and stage: best mean AUC over terms.
  std::map<std::pair<std::string, std::string>, std::pair<std::string, double>> best;
  for (const auto& [key, means] : auc_means) {
    auto& b = best[{std::get<0>(key), std::get<2>(key)}];
    if (b.first.empty() || mean(means) > b.second) b = {std::get<1>(key), mean(means)};
  }

  // Figure 6: every plotted per-term AUC is the mean over folds of metrics.tsv's values.
  std::set<Key> seen;
  for (const auto& d : figure(result, "figure6-terms")["data"]) {
    const Key key{S(d["method"]), S(d["layer"]), S(d["stage_range"]), S(d["term"])};
    if (!seen.insert(key).second) continue;  // bars and error rules share data
    EXPECT_EQ(S(d["layer"]), best.at({S(d["method"]), S(d["stage_range"])}).first);
    EXPECT_NEAR(d["auc"].get<double>(), mean(metrics.at("auc").at(key)), 1e-12);
    EXPECT_NEAR(d["auc_std"].get<double>(), sample_std(metrics.at("auc").at(key)), 1e-12);
  }
  EXPECT_EQ(seen.size(), 2u * 4 + 3u * 4);  // 11-12: TL, TL+MTL; 13-16: also SC; 4 terms each

  // Figure 5 and Table 2: means (and stds) over terms of the per-term means.
  for (const auto& d : figure(result, "figure5-methods")["data"]) {
    const auto& means = auc_means.at({S(d["method"]), S(d["layer"]), S(d["stage_range"])});
    EXPECT_NEAR(d["auc"].get<double>(), mean(means), 1e-12);
    EXPECT_NEAR(d["auc_std"].get<double>(), sample_std(means), 1e-12);
  }
  int ours = 0, paper = 0;
  for (const auto& d : figure(result, "table2")["data"]) {
    if (S(d["source"]) == "ours") {
      const std::string metric = S(d["metric"]) == "AUC" ? "auc" : S(d["metric"]);
      const auto means =
          term_means(metrics.at(metric)).at({S(d["method"]), S(d["layer"]), S(d["stage_range"])});
      EXPECT_NEAR(d["value"].get<double>(), mean(means), 1e-12);
      EXPECT_NEAR(d["value_std"].get<double>(), sample_std(means), 1e-12);
      ++ours;
    } else if (S(d["method"]) == "TL" && S(d["stage_range"]) == "13-16") {
      EXPECT_EQ(d["value"].get<double>(), 0.8746);  // PAPER.md, Table 2
      ++paper;
    }
  }
  EXPECT_GT(ours, 0);
  EXPECT_GT(paper, 0);

  // Figures 3/4: every layer of TL (with the concatenation) and TL+MTL; SC (one layer) left out.
  std::set<std::pair<std::string, std::string>> layers;
  for (const auto& d : figure(result, "figure3-4-layers")["data"]) {
    if (!d.contains("auc")) continue;
    EXPECT_NE(S(d["method"]), "SC");
    EXPECT_NEAR(d["auc"].get<double>(),
                mean(auc_means.at({S(d["method"]), S(d["layer"]), S(d["stage_range"])})), 1e-12);
    layers.insert({S(d["method"]), S(d["layer"])});
  }
  EXPECT_EQ(layers.size(), 4u + 3u);

  // Figure 7: each cell's colour from predictions.tsv; the 20 images with the most terms.
  std::map<std::tuple<std::string, std::string, std::string, std::string>, std::pair<int, int>>
      votes;
  for (const auto& run : runs)
    for (auto& p : test::read_tsv(run + "/predictions.tsv"))
      votes[{p["method"] + " · " + p["layer"], p["stage_range"], p["id"], p["term"]}] = {
          std::stoi(p["true_label"]), std::stoi(p["predicted"])};
  for (const std::string stage : {"11-12", "13-16"}) {
    // The sides: the methods with the best and the worst mean AUC at their best layers.
    std::vector<std::pair<double, std::string>> ranked;
    for (const auto& [key, b] : best)
      if (key.second == stage) ranked.push_back({b.second, key.first + " · " + b.first});
    std::sort(ranked.rbegin(), ranked.rend());
    const std::string a = ranked.front().second, b = ranked.back().second;
    std::map<std::string, int> positives;
    std::set<std::pair<std::string, std::string>> cells;
    for (const auto& d : figure(result, "figure7-" + stage)["data"]) {
      if (!d.contains("agreement") || !cells.insert({S(d["id"]), S(d["term"])}).second) continue;
      const auto [label, vote_a] = votes.at({a, stage, S(d["id"]), S(d["term"])});
      const int vote_b = votes.at({b, stage, S(d["id"]), S(d["term"])}).second;
      const std::string expected =
          vote_a == vote_b  ? "same prediction"
          : vote_a == label ? a + " right, " + b + " wrong: " + (label ? "positive" : "negative")
                            : b + " right, " + a + " wrong: " + (label ? "positive" : "negative");
      EXPECT_EQ(S(d["agreement"]), expected) << stage << " " << S(d["id"]) << " " << S(d["term"]);
      EXPECT_EQ(d["label"].get<int>(), label);
      positives[S(d["id"])] += label;
    }
    EXPECT_EQ(positives.size(), 20u) << stage;
    int fewest = 100;
    for (const auto& [id, n] : positives) fewest = std::min(fewest, n);
    for (const auto& [key, lv] : votes)  // no image left out has more terms than one shown
      if (std::get<0>(key) == a && std::get<1>(key) == stage &&
          !positives.count(std::get<2>(key))) {
        int n = 0;
        for (const auto& [k2, lv2] : votes)
          if (std::get<0>(k2) == a && std::get<1>(k2) == stage &&
              std::get<2>(k2) == std::get<2>(key))
            n += lv2.first;
        EXPECT_LE(n, fewest) << std::get<2>(key);
      }
    int thumbnails = 0;
    for (const auto& d : figure(result, "figure7-" + stage)["data"])
      if (d.contains("url"))
        thumbnails += d["url"].get<std::string>().rfind("data:image/png;base64,", 0) == 0;
    EXPECT_EQ(thumbnails, 20) << stage;
  }

  // ROC curves: every plotted point is a point of roc.tsv (method, layer, stage, term).
  std::set<std::tuple<std::string, std::string, std::string, double, double>> roc_points;
  for (const auto& run : runs)
    for (auto& r : test::read_tsv(run + "/roc.tsv"))
      roc_points.insert({r["method"] + " · " + r["layer"], r["stage_range"], r["term"],
                         std::stod(r["fpr"]), std::stod(r["tpr"])});
  for (const std::string stage : {"11-12", "13-16"}) {
    int plotted = 0;
    for (const auto& d : figure(result, "roc-" + stage)["data"])
      if (S(d["method"]) != "chance") {
        EXPECT_TRUE(roc_points.count({S(d["method"]) + " · " + S(d["layer"]), stage, S(d["term"]),
                                      d["fpr"].get<double>(), d["tpr"].get<double>()}))
            << d.dump();
        ++plotted;
      }
    EXPECT_GT(plotted, 0);
  }

  // The group map: the scores of groups.tsv.
  const auto groups = test::read_tsv(dir_ + "/annotate/groups.tsv");
  int group_cells = 0;
  for (const auto& d : figure(result, "groups-1")["data"])
    if (d.contains("score"))
      for (const auto& g : groups)
        if (g.at("gene") == S(d["gene"]) && g.at("term") == S(d["term"])) {
          EXPECT_EQ(d["score"].get<double>(), std::stod(g.at("score")));
          ++group_cells;
        }
  EXPECT_GE(group_cells, static_cast<int>(groups.size()));
}

TEST_F(ReportEndToEnd, BadInputIsOneLineOrAVisibleNote) {
  ISHANNOT_SKIP_WITHOUT_REPORT_TOOLS();
  const std::string bin = test::ishannot_binary() + " --quiet report --out " + dir_ + "/r --runs ";
  int code = 0;
  // A folder that is no output.
  std::string err = cli_error(bin + dir_ + "/eval-tl " + dir_ + "/data", &code);
  EXPECT_EQ(code, 1);
  EXPECT_EQ(err,
            "ishannot: error: " + dir_ +
                "/data: not an evaluate output (metrics.tsv + run.json) nor an annotate output "
                "(annotations.tsv + run.json)\n");
  // An empty run alone: nothing to report. Beside a real run: a note on the page.
  std::filesystem::create_directories(dir_ + "/empty");
  std::filesystem::copy_file(dir_ + "/eval-sc/run.json", dir_ + "/empty/run.json");
  test::run_command("head -1 " + dir_ + "/eval-sc/metrics.tsv > " + dir_ + "/empty/metrics.tsv");
  err = cli_error(bin + dir_ + "/empty", &code);
  EXPECT_EQ(code, 1);
  EXPECT_NE(err.find("nothing to report: the run is empty ("), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  err = cli_error(bin + dir_ + "/empty " + dir_ + "/eval-sc", &code);
  EXPECT_EQ(code, 0) << err;
  EXPECT_NE(read_text_file(dir_ + "/r/index.html").find("/empty: an empty evaluate run"),
            std::string::npos);
  // No node, no vega: one line saying what to run.
  err = cli_error("PATH=/nonexistent " + bin + dir_ + "/eval-sc", &code);
  EXPECT_EQ(code, 1);
  EXPECT_NE(err.find("node (Node.js) not found on PATH"), std::string::npos) << err;
  EXPECT_NE(err.find("scripts/setup.sh"), std::string::npos) << err;
  std::filesystem::create_directories(dir_ + "/home");
  err = cli_error("ISHANNOT_HOME=" + dir_ + "/home " + bin + dir_ + "/eval-sc", &code);
  EXPECT_EQ(code, 1);
  EXPECT_EQ(err, "ishannot: error: " + dir_ +
                     "/home/vega/vega.min.js: missing (the report's plotting library); run "
                     "scripts/setup.sh (it installs Node.js and fetches vega)\n");
  // Figure 7's sides and the layer shown, chosen; where a side has no results: a note (and the
  // figure an earlier report in the folder had is removed).
  err = cli_error(bin + dir_ + "/eval-tl " + dir_ + "/eval-sc", &code);
  EXPECT_EQ(code, 0) << err;
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/r/figures/figure7-11-12.svg"));
  err =
      cli_error(bin + dir_ + "/eval-tl " + dir_ + "/eval-sc --compare SC,TL --layer TL=l5", &code);
  EXPECT_EQ(code, 0) << err;
  const std::string html = read_text_file(dir_ + "/r/index.html");
  EXPECT_NE(html.find("Figure 7: SC · sc_max vs TL · l5, 13-16"), std::string::npos);
  EXPECT_NE(html.find("Figure 7, 11-12: needs two methods"), std::string::npos);
  EXPECT_NE(html.find("TL: layer l5 shown (--layer)"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/r/figures/figure7-11-12.svg"));
  err = cli_error(bin + dir_ + "/eval-sc --compare SC,XX", &code);
  EXPECT_EQ(code, 1);
  EXPECT_EQ(err, "ishannot: error: --compare XX: no run has method 'XX'\n");
  // Usage errors: exit 2.
  err = cli_error(bin + dir_ + "/eval-sc --layer TL", &code);
  EXPECT_EQ(code, 2) << err;
}
