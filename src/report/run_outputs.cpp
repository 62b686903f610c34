// Readers of evaluate and annotate output folders (report/run_outputs.h), by column name.
#include "ishannot/report/run_outputs.h"

#include <algorithm>
#include <filesystem>
#include <limits>
#include <set>

#include "detail/tsv.h"
#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/data/dataset.h"

namespace ishannot {
namespace fs = std::filesystem;

namespace {

bool is_file(const std::string& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

nlohmann::json read_run_json(const std::string& dir) {
  const std::string path = dir + "/run.json";
  nlohmann::json run = nlohmann::json::parse(read_text_file(path), nullptr, false);
  if (run.is_discarded() || !run.is_object()) throw file_error(path, "not a JSON object");
  return run;
}

// Normalised when it is a stage range ("13-17" -> "13-16"), as is otherwise.
std::string stage_name(const std::string& text) {
  try {
    return normalise_stage_range(text);
  } catch (const Error&) {
    return text;
  }
}

TextTable read_text_table(const std::string& path) {
  if (!is_file(path)) return {};
  detail::TsvReader t(path);
  TextTable table{t.header(), {}};
  while (t.next()) table.rows.push_back(t.cells());
  return table;
}

std::vector<MetricRow> read_metrics(const std::string& path) {
  detail::TsvReader t(path);
  const int method = t.require("method"), layer = t.require("layer"),
            stage = t.require("stage_range"), term = t.require("term"), fold = t.require("fold"),
            metric = t.require("metric"), value = t.require("value");
  std::vector<MetricRow> rows;
  // Rates and AUCs lie in [0, 1]; every other metric (C, test counts) is a finite number.
  static const std::set<std::string> rates = {"auc", "accuracy", "sensitivity", "specificity"};
  while (t.next()) {
    const std::string& name = t.text(metric);
    const bool rate = rates.count(name.rfind("group_", 0) == 0 ? name.substr(6) : name) > 0;
    rows.push_back({t.text(method), t.text(layer), stage_name(t.text(stage)), t.text(term),
                    t.integer(fold), name, rate ? t.fraction(value) : t.finite(value)});
  }
  return rows;
}

// Files written before `label` became `true_label` / `predicted` (and `vote` `predicted`).
void refuse_old_names(const detail::TsvReader& t) {
  if (t.column("label") >= 0 || (t.column("vote") >= 0 && t.column("predicted") < 0))
    throw file_error(t.path(),
                     "written by an older ishannot (column 'label'/'vote', now 'true_label' in "
                     "predictions and 'predicted'/'call' in annotations): rerun it with this "
                     "version");
}

// An optional number: NaN when the column is absent or the cell empty.
double optional_number(const detail::TsvReader& t, int column) {
  return column < 0 || t.text(column).empty() ? std::numeric_limits<double>::quiet_NaN()
                                              : t.number(column);
}

std::vector<MethodPrediction> read_predictions(const std::string& path) {
  if (!is_file(path)) return {};
  detail::TsvReader t(path);
  refuse_old_names(t);
  const int method = t.require("method"), layer = t.require("layer"),
            stage = t.require("stage_range"), term = t.require("term"), fold = t.require("fold"),
            id = t.require("id"), gene = t.require("gene"), label = t.require("true_label"),
            score = t.require("score"), vote = t.require("predicted");
  std::vector<MethodPrediction> rows;
  while (t.next()) {
    PredictionRow p;
    p.id = t.text(id);
    p.gene = t.text(gene);
    p.stage_range = stage_name(t.text(stage));
    p.layer = t.text(layer);
    p.term = t.text(term);
    p.fold = t.integer(fold);
    p.label = t.integer(label);
    p.score = t.fraction(score);
    p.vote = t.integer(vote);
    rows.push_back({t.text(method), std::move(p)});
  }
  return rows;
}

std::vector<RocRow> read_roc(const std::string& path) {
  if (!is_file(path)) return {};
  detail::TsvReader t(path);
  const int method = t.require("method"), layer = t.require("layer"),
            stage = t.require("stage_range"), term = t.require("term"),
            threshold = t.require("threshold"), fpr = t.require("fpr"), tpr = t.require("tpr");
  std::vector<RocRow> rows;
  while (t.next())
    rows.push_back({t.text(method), t.text(layer), stage_name(t.text(stage)), t.text(term),
                    t.number(threshold), t.fraction(fpr), t.fraction(tpr)});
  return rows;
}

// A path as written when it exists, else relative to the run folder (outputs moved together).
std::string resolve_path(const std::string& path, const std::string& base) {
  if (path.empty() || fs::path(path).is_absolute() || fs::exists(path)) return path;
  const std::string relative = (fs::path(base) / path).string();
  return fs::exists(relative) ? relative : path;
}

}  // namespace

RunKind run_kind(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw file_error(dir, fs::exists(dir, ec)
                              ? "not a folder (give an evaluate or annotate output folder)"
                              : "no such folder");
  const bool run = is_file(dir + "/run.json");
  if (run && is_file(dir + "/metrics.tsv")) return RunKind::kEvaluation;
  if (run && is_file(dir + "/annotations.tsv")) return RunKind::kAnnotation;
  throw file_error(dir,
                   std::string("not an evaluate output (metrics.tsv + run.json) nor an annotate "
                               "output (annotations.tsv + run.json)") +
                       (run ? ": it has run.json only" : ""));
}

EvaluationRun read_evaluation_run(const std::string& dir) {
  EvaluationRun run;
  run.dir = dir;
  run.run = read_run_json(dir);
  run.metrics = read_metrics(dir + "/metrics.tsv");
  run.predictions = read_predictions(dir + "/predictions.tsv");
  run.roc = read_roc(dir + "/roc.tsv");
  run.skipped = read_text_table(dir + "/skipped.tsv");
  if (run.run.contains("config") && run.run["config"].contains("layers") &&
      run.run["config"]["layers"].is_array())
    for (const auto& layer : run.run["config"]["layers"])
      if (layer.is_string()) run.layers.push_back(layer.get<std::string>());
  for (const auto& m : run.metrics)
    if (std::find(run.layers.begin(), run.layers.end(), m.layer) == run.layers.end())
      run.layers.push_back(m.layer);
  return run;
}

AnnotationRun read_annotation_run(const std::string& dir) {
  AnnotationRun run;
  run.dir = dir;
  run.run = read_run_json(dir);
  detail::TsvReader t(dir + "/annotations.tsv");
  refuse_old_names(t);
  const int image = t.require("image"), path = t.require("path"), gene = t.require("gene"),
            stage = t.require("stage_range"), term = t.require("term"), score = t.require("score"),
            votes = t.require("votes"), members = t.require("members"),
            predicted = t.require("predicted"), probability = t.require("probability"),
            call = t.require("call"), auc = t.require("term_auc"),
            validated = t.require("validated");
  while (t.next())
    run.annotations.push_back({t.text(image), resolve_path(t.text(path), dir), t.text(gene),
                               stage_name(t.text(stage)), t.text(term), t.fraction(score),
                               t.integer(votes), t.integer(members), t.integer(predicted),
                               optional_number(t, probability), t.text(call),
                               optional_number(t, auc), t.integer(validated) == 1});
  if (is_file(dir + "/groups.tsv")) {
    detail::TsvReader g(dir + "/groups.tsv");
    refuse_old_names(g);
    const int gene_c = g.require("gene"), stage_c = g.require("stage_range"),
              term_c = g.require("term"), score_c = g.require("score"),
              predicted_c = g.require("predicted"), images_c = g.require("images"),
              rule_c = g.column("rule"), probability_c = g.require("probability"),
              call_c = g.require("call"), validated_c = g.require("validated");
    while (g.next())
      run.groups.push_back({g.text(gene_c), stage_name(g.text(stage_c)), g.text(term_c),
                            g.fraction(score_c), g.integer(predicted_c), g.integer(images_c),
                            g.text(rule_c), optional_number(g, probability_c), g.text(call_c),
                            g.integer(validated_c) == 1});
  }
  if (is_file(dir + "/group_evidence.tsv")) {  // annotate with a bag bundle
    detail::TsvReader e(dir + "/group_evidence.tsv");
    const int gene_c = e.require("gene"), stage_c = e.require("stage_range"),
              term_c = e.require("term"), label_c = e.require("group_label"),
              score_c = e.require("group_score"), rank_c = e.require("rank"),
              image_c = e.require("image"), path_c = e.require("path"),
              contribution_c = e.require("contribution"), share_c = e.require("share");
    while (e.next())
      run.evidence.push_back({e.text(gene_c), stage_name(e.text(stage_c)), e.text(term_c),
                              e.integer(label_c), e.number(score_c), e.integer(rank_c),
                              e.text(image_c), resolve_path(e.text(path_c), dir),
                              e.number(contribution_c), e.number(share_c)});
  }
  const std::string index = dir + "/heatmaps/index.tsv";
  if (is_file(index) &&  // "absent or empty" both mean: no heat maps
      read_text_file(index).find_first_not_of(" \t\r\n") != std::string::npos) {
    detail::TsvReader h(index);
    const int image_c = h.require("image"), stage_c = h.require("stage_range"),
              term_c = h.require("term"), score_c = h.require("score"), file_c = h.require("file");
    while (h.next()) {
      // Only files inside heatmaps/: an absolute path or a '..' would embed any image.
      const fs::path file(h.text(file_c));
      const bool inside =
          !file.empty() && file.is_relative() &&
          std::none_of(file.begin(), file.end(), [](const fs::path& part) { return part == ".."; });
      if (!inside)
        throw file_error(
            index + ":" + std::to_string(h.line()),
            "column 'file': '" + file.string() + "' is not a file inside heatmaps/ (refused)");
      run.heatmaps.push_back({h.text(image_c), stage_name(h.text(stage_c)), h.text(term_c),
                              h.fraction(score_c), (fs::path(dir) / "heatmaps" / file).string()});
    }
  }
  if (is_file(dir + "/reliability.tsv")) {
    detail::TsvReader r(dir + "/reliability.tsv");
    const int level = r.require("level"), stage_c = r.require("stage_range"),
              low = r.require("bin_low"), high = r.require("bin_high"), n = r.require("n"),
              mean = r.require("mean_probability"), positive = r.require("fraction_positive");
    while (r.next())
      run.reliability.push_back({r.text(level), stage_name(r.text(stage_c)), r.number(low),
                                 r.number(high), r.integer(n), optional_number(r, mean),
                                 optional_number(r, positive)});
  }
  run.skipped = read_text_table(dir + "/skipped.tsv");
  return run;
}

namespace {
// Biological order, names that are not stage ranges after them.
int sort_key(const std::string& stage_range) {
  const int order = stage_order(stage_range);
  return order > 0 ? order : 1000;
}
}  // namespace

std::vector<std::string> sorted_stage_ranges(std::vector<std::string> stage_ranges) {
  std::stable_sort(stage_ranges.begin(), stage_ranges.end(),
                   [](const std::string& a, const std::string& b) {
                     const int oa = sort_key(a), ob = sort_key(b);
                     return oa != ob ? oa < ob : a < b;
                   });
  stage_ranges.erase(std::unique(stage_ranges.begin(), stage_ranges.end()), stage_ranges.end());
  return stage_ranges;
}

}  // namespace ishannot
