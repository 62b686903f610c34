// Writers of the evaluation outputs: long-form TSV, summaries, predictions, skips, run.json.
#include <H5public.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <tuple>

#include "detail/tsv.h"
#include "ishannot/common/error.h"
#include "ishannot/common/format.h"
#include "ishannot/common/format_versions.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/common/output_columns.h"
#include "ishannot/eval/evaluation.h"
#include "ishannot/version.h"

namespace ishannot {

using detail::tsv_field;

namespace {

std::string fixed4(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.4f", v);
  return buf;
}

// A cell of Table 2: "mean ± std (T/K terms, N images)", marked " *" when T < K / 2.
std::string summary_cell(const SummaryRow& r, bool* marked) {
  const bool few = r.terms_requested > 0 && 2 * r.over_terms.count < r.terms_requested;
  *marked = *marked || few;
  std::string cell = fixed4(r.over_terms.mean) + " ± " + fixed4(r.over_terms.std);
  if (r.terms_requested > 0)
    cell += " (" + std::to_string(r.over_terms.count) + "/" + std::to_string(r.terms_requested) +
            " terms, " + std::to_string(r.test_images) + " images)";
  return few ? cell + " *" : cell;
}

std::string stage_order_text(const std::string& stage_range) {
  const int order = stage_order(stage_range);
  return order > 0 ? std::to_string(order) : std::string();
}

}  // namespace

std::string summary_table(const EvaluationResult& result) {
  std::ostringstream out;
  bool marked = false;
  int requested = 0;
  out << "| measure | method | layer |";
  for (const auto& s : result.stage_ranges) out << " " << s << " |";
  out << "\n|---|---|---|";
  for (size_t i = 0; i < result.stage_ranges.size(); ++i) out << "---|";
  out << "\n";
  std::set<std::string> methods;
  for (const auto& r : result.summary) methods.insert(r.method);
  for (const std::string metric :
       {"auc", "accuracy", "sensitivity", "specificity", "group_auc", "group_accuracy",
        "group_sensitivity", "group_specificity", "group_f1"})
    for (const auto& method : methods)
      for (const auto& layer : result.layers) {
        bool any = false;
        std::ostringstream row;
        const bool group = metric.rfind("group_", 0) == 0;
        row << "| " << (group ? "group " + metric.substr(6) : metric) << " | " << method << " | "
            << layer << " |";
        for (const auto& stage : result.stage_ranges) {
          const SummaryRow* found = nullptr;
          for (const auto& r : result.summary)
            if (r.method == method && r.layer == layer && r.stage_range == stage &&
                r.metric == metric)
              found = &r;
          if (found) {
            any = true;
            requested = std::max(requested, found->terms_requested);
            row << " " << summary_cell(*found, &marked) << " |";
          } else {
            row << " – |";
          }
        }
        if (any) out << row.str() << "\n";
      }
  if (marked)
    out << "\n\\* averaged over fewer than half of the " << requested
        << " requested terms (--top-k): too few terms had positives in enough genes.\n";
  return out.str();
}

namespace {

// unit: what the learner learned from (image, bag); bag_pool: the bags' pooling (bag unit only).
void write_metrics_tsv(const std::string& path, const EvaluationResult& result,
                       const EvaluationParams& params) {
  const bool bag = params.unit == EvaluationUnit::kBag;
  const std::string unit = evaluation_unit_name(params.unit);
  const std::string pool = bag ? bag_pool_name(params.bag_pool) : "";
  std::ostringstream out;
  out << tsv_header(OutputKind::kEvaluate, "metrics.tsv");
  for (const auto& m : result.metrics)
    out << tsv_field(m.method) << '\t' << tsv_field(m.layer) << '\t' << m.stage_range << '\t'
        << stage_order_text(m.stage_range) << '\t' << tsv_field(m.term) << '\t' << m.fold << '\t'
        << m.metric << '\t' << format_exact(m.value) << '\t' << unit << '\t' << pool << '\n';
  write_text_atomically(path, out.str());
}

void write_summary_tsv(const std::string& path, const EvaluationResult& result) {
  std::ostringstream out;
  out << tsv_header(OutputKind::kEvaluate, "summary.tsv");
  for (const auto& r : result.summary)
    out << tsv_field(r.method) << '\t' << tsv_field(r.layer) << '\t' << r.stage_range << '\t'
        << stage_order_text(r.stage_range) << '\t' << r.metric << '\t'
        << format_exact(r.over_terms.mean) << '\t' << format_exact(r.over_terms.std) << '\t'
        << r.over_terms.count << '\t' << r.terms_requested << '\t' << r.test_images << '\t'
        << format_exact(r.over_folds.mean) << '\t' << format_exact(r.over_folds.std) << '\t'
        << r.over_folds.count << '\n';
  write_text_atomically(path, out.str());
}

void write_summary_md(const std::string& path, const EvaluationResult& result,
                      const EvaluationParams& params) {
  const std::string protocol =
      params.protocol == EvaluationProtocol::kGroupsShuffled
          ? "Protocol groups-shuffled (the literature's comparison protocol, looser than "
            "ishannot's gene-grouped default): stage ranges pooled into 'all', gene x stage "
            "groups split at random, so a test gene's other stage ranges may be in training.\n\n"
          : std::string();
  write_text_atomically(path, protocol +
                                  "Mean ± std over terms (per-term means over the outer folds); "
                                  "in parentheses: terms averaged of those requested, test "
                                  "images.\n\n" +
                                  summary_table(result));
}

void write_predictions_tsv(const std::string& path, const EvaluationResult& result,
                           const EvaluationParams& params) {
  std::ostringstream out;
  out << tsv_header(OutputKind::kEvaluate, "predictions.tsv");
  for (const auto& p : result.predictions)
    out << tsv_field(params.method) << '\t' << tsv_field(p.layer) << '\t' << p.stage_range << '\t'
        << stage_order_text(p.stage_range) << '\t' << tsv_field(p.term) << '\t' << p.fold << '\t'
        << tsv_field(p.id) << '\t' << tsv_field(p.gene) << '\t' << p.label << '\t'
        << format_exact(p.score) << '\t' << p.vote << '\n';
  write_text_atomically(path, out.str());
}

void write_group_predictions_tsv(const std::string& path, const EvaluationResult& result,
                                 const EvaluationParams& params) {
  // The bag unit's groups are scored by the bag model: rule "bag:<pooling>".
  const std::string rule = params.unit == EvaluationUnit::kBag
                               ? "bag:" + bag_pool_name(params.bag_pool)
                               : group_rule_name(params.group_rule);
  std::ostringstream out;
  out << tsv_header(OutputKind::kEvaluate, "group_predictions.tsv");
  for (const auto& g : result.group_predictions)
    out << tsv_field(params.method) << '\t' << tsv_field(g.layer) << '\t' << g.stage_range << '\t'
        << stage_order_text(g.stage_range) << '\t' << tsv_field(g.term) << '\t' << g.fold << '\t'
        << tsv_field(g.gene) << '\t' << g.label << '\t' << format_exact(g.score) << '\t' << g.vote
        << '\t' << g.images << '\t' << rule << '\n';
  write_text_atomically(path, out.str());
}

// Pooled out-of-fold ROC curve per (layer, stage range, term): of images, or of bags (bag unit).
void write_roc_tsv(const std::string& path, const EvaluationResult& result,
                   const EvaluationParams& params) {
  using Key = std::tuple<std::string, std::string, std::string>;
  std::map<Key, std::pair<std::vector<double>, std::vector<uint8_t>>> pooled;
  std::vector<Key> order;
  auto add = [&](const auto& p) {
    Key key = std::make_tuple(p.layer, p.stage_range, p.term);
    if (!pooled.count(key)) order.push_back(key);
    pooled[key].first.push_back(p.score);
    pooled[key].second.push_back(static_cast<uint8_t>(p.label));
  };
  for (const auto& p : result.predictions) add(p);
  if (params.unit == EvaluationUnit::kBag)  // the bags' own scores (the image table is empty)
    for (const auto& g : result.group_predictions) add(g);
  std::ostringstream out;
  out << tsv_header(OutputKind::kEvaluate, "roc.tsv");
  for (const auto& key : order) {
    const auto& [scores, labels] = pooled[key];
    for (const auto& point : roc_curve(scores, labels))
      out << tsv_field(params.method) << '\t' << tsv_field(std::get<0>(key)) << '\t'
          << std::get<1>(key) << '\t' << stage_order_text(std::get<1>(key)) << '\t'
          << tsv_field(std::get<2>(key)) << '\t' << format_exact(point.threshold) << '\t'
          << format_exact(point.fpr) << '\t' << format_exact(point.tpr) << '\n';
  }
  write_text_atomically(path, out.str());
}

// The key columns of metrics.tsv (fold: a number, or empty for every fold) and the reason.
void write_skipped_tsv(const std::string& path, const EvaluationResult& result,
                       const EvaluationParams& params) {
  std::ostringstream out;
  out << tsv_header(OutputKind::kEvaluate, "skipped.tsv");
  for (const auto& s : result.skipped)
    out << tsv_field(params.method) << '\t' << tsv_field(s.layer) << '\t' << s.stage_range << '\t'
        << stage_order_text(s.stage_range) << '\t' << tsv_field(s.term) << '\t'
        << (s.fold < 0 ? std::string() : std::to_string(s.fold)) << '\t' << tsv_field(s.reason)
        << '\n';
  write_text_atomically(path, out.str());
}

nlohmann::json notes_json(const std::vector<SkipRow>& notes) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& n : notes)
    out.push_back({{"layer", n.layer},
                   {"stage_range", n.stage_range},
                   {"term", n.term},
                   {"fold", n.fold < 0 ? nlohmann::json(nullptr) : nlohmann::json(n.fold)},
                   {"reason", n.reason}});
  return out;
}

nlohmann::json library_versions() {
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  return {
      {"ishannot", ISHANNOT_VERSION},
      {"hdf5", std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release)},
      {"eigen", std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) +
                    "." + std::to_string(EIGEN_MINOR_VERSION)}};
}

nlohmann::json run_config(const EvaluationResult& result, const EvaluationParams& params) {
  return {{"method", params.method},
          {"layers", result.layers},
          {"stage_ranges", result.stage_ranges},
          {"top_k", params.terms.top_k},
          {"exclude_terms", params.terms.exclude},
          {"view", params.terms.view},
          {"folds", params.folds},
          {"inner_folds", params.fit.inner_folds},
          {"c_grid", params.fit.c_grid},
          {"fallback_C", params.fit.ensemble.logistic.C},
          {"models", params.fit.ensemble.models},
          {"inner_models", params.fit.inner_models},
          {"solver_tolerance", params.fit.ensemble.logistic.tolerance},
          {"preprocessing", preprocessing_name(params.preprocessing)},
          {"level", evaluation_level_name(params.level)},
          {"group_rule", group_rule_name(params.group_rule)},
          {"unit", evaluation_unit_name(params.unit)},
          {"bag_pool", params.unit == EvaluationUnit::kBag ? bag_pool_name(params.bag_pool) : ""},
          {"protocol", evaluation_protocol_name(params.protocol)},
          {"gram_slab_columns", params.gram.slab_columns},
          {"bias", "unregularised"},
          {"c_selection", "per term and outer fold: pooled inner-CV AUC, ties to smaller C"}};
}

void write_run_json(const std::string& path, const EvaluationResult& result,
                    const EvaluationParams& params, const Provenance& provenance,
                    const std::vector<std::string>& files) {
  nlohmann::json run;
  run["format"] = "ishannot-evaluation";
  run["format_version"] = kEvaluationRunFormatVersion;
  run["versions"] = library_versions();
  for (const auto& [key, value] : provenance.entries()) run["provenance"][key] = value;
  run["finished_utc"] = utc_timestamp();
  run["seed"] = params.seed;
  run["config"] = run_config(result, params);
  run["seconds"] = result.seconds;
  run["counts"] = {{"metric_rows", result.metrics.size()},
                   {"predictions", result.predictions.size()},
                   {"skipped", result.skipped.size()},
                   {"notes", result.notes.size()}};
  run["notes"] = notes_json(result.notes);
  run["files"] = files;
  write_text_atomically(path, run.dump(2) + "\n");
}

// DIR.partial next to DIR (DIR without a trailing slash).
std::string staging_folder(const std::string& dir) {
  std::filesystem::path p = std::filesystem::path(dir).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  if (p.empty() || p == ".") p = std::filesystem::absolute(".").lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  return p.string() + ".partial";
}

// Moves the staged files into DIR: one rename for a new DIR; else run.json (the marker of a
// complete run) is removed first and moved in last, so a run.json is only ever beside its run.
void publish(const std::string& staging, const std::string& dir,
             const std::vector<std::string>& files) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    fs::rename(staging, dir, ec);
    if (ec) throw file_error(dir, "cannot move the outputs into place: " + ec.message());
    return;
  }
  fs::remove(fs::path(dir) / "run.json", ec);
  // An earlier group-level run's group predictions do not describe this run.
  if (std::find(files.begin(), files.end(), "group_predictions.tsv") == files.end())
    fs::remove(fs::path(dir) / "group_predictions.tsv", ec);
  for (const auto& f : files) {
    if (f == "run.json") continue;
    fs::rename(fs::path(staging) / f, fs::path(dir) / f, ec);
    if (ec) throw file_error(dir + "/" + f, "cannot move into place: " + ec.message());
  }
  fs::rename(fs::path(staging) / "run.json", fs::path(dir) / "run.json", ec);
  if (ec) throw file_error(dir + "/run.json", "cannot move into place: " + ec.message());
  fs::remove_all(staging, ec);
}

}  // namespace

void write_evaluation_outputs(const std::string& dir, const EvaluationResult& result,
                              const EvaluationParams& params, const Provenance& provenance) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
    throw file_error(dir, "exists and is not a folder (the outputs go into a folder)");
  const std::string staging = staging_folder(dir);
  fs::remove_all(staging, ec);  // left by a killed run
  fs::create_directories(staging, ec);
  if (ec) throw file_error(staging, "cannot create the output folder: " + ec.message());
  const bool group = params.level != EvaluationLevel::kImage;
  std::vector<std::string> files = {"metrics.tsv", "summary.tsv", "summary.md", "predictions.tsv"};
  if (group) files.push_back("group_predictions.tsv");
  for (const char* f : {"roc.tsv", "skipped.tsv", "columns.tsv", "run.json"}) files.push_back(f);
  try {
    write_metrics_tsv(staging + "/metrics.tsv", result, params);
    write_summary_tsv(staging + "/summary.tsv", result);
    write_summary_md(staging + "/summary.md", result, params);
    write_predictions_tsv(staging + "/predictions.tsv", result, params);
    if (group) write_group_predictions_tsv(staging + "/group_predictions.tsv", result, params);
    write_roc_tsv(staging + "/roc.tsv", result, params);
    write_skipped_tsv(staging + "/skipped.tsv", result, params);
    write_columns_tsv(staging, OutputKind::kEvaluate, files);
    write_run_json(staging + "/run.json", result, params, provenance, files);
    publish(staging, dir, files);
  } catch (...) {
    fs::remove_all(staging, ec);
    throw;
  }
}

}  // namespace ishannot
