// Writers of the evaluation outputs: long-form TSV, summaries, predictions, skips, run.json.
#include <H5public.h>

#include <Eigen/Core>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <tuple>

#include "ishannot/common/error.h"
#include "ishannot/common/format.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/eval/evaluation.h"
#include "ishannot/version.h"

namespace ishannot {

namespace {

std::string fixed4(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.4f", v);
  return buf;
}

// TSV fields must not hold tabs or newlines.
std::string field(const std::string& s) {
  std::string out = s;
  for (char& c : out)
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  return out;
}

}  // namespace

std::string summary_table(const EvaluationResult& result) {
  std::ostringstream out;
  out << "| measure | method | layer |";
  for (const auto& s : result.stage_ranges) out << " " << s << " |";
  out << "\n|---|---|---|";
  for (size_t i = 0; i < result.stage_ranges.size(); ++i) out << "---|";
  out << "\n";
  std::set<std::string> methods;
  for (const auto& r : result.summary) methods.insert(r.method);
  for (const std::string metric :
       {"auc", "accuracy", "sensitivity", "specificity", "group_auc", "group_accuracy",
        "group_sensitivity", "group_specificity"})
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
            row << " " << fixed4(found->over_terms.mean) << " ± " << fixed4(found->over_terms.std)
                << " |";
          } else {
            row << " – |";
          }
        }
        if (any) out << row.str() << "\n";
      }
  return out.str();
}

namespace {

void write_metrics_tsv(const std::string& path, const EvaluationResult& result) {
  std::ostringstream out;
  out << "method\tlayer\tstage_range\tterm\tfold\tmetric\tvalue\n";
  for (const auto& m : result.metrics)
    out << field(m.method) << '\t' << field(m.layer) << '\t' << m.stage_range << '\t'
        << field(m.term) << '\t' << m.fold << '\t' << m.metric << '\t' << format_exact(m.value)
        << '\n';
  write_text_atomically(path, out.str());
}

void write_summary_tsv(const std::string& path, const EvaluationResult& result) {
  std::ostringstream out;
  out << "method\tlayer\tstage_range\tmetric\tmean_over_terms\tstd_over_terms\tterms\t"
         "mean_over_folds\tstd_over_folds\tfolds\n";
  for (const auto& r : result.summary)
    out << field(r.method) << '\t' << field(r.layer) << '\t' << r.stage_range << '\t' << r.metric
        << '\t' << format_exact(r.over_terms.mean) << '\t' << format_exact(r.over_terms.std) << '\t'
        << r.over_terms.count << '\t' << format_exact(r.over_folds.mean) << '\t'
        << format_exact(r.over_folds.std) << '\t' << r.over_folds.count << '\n';
  write_text_atomically(path, out.str());
}

void write_summary_md(const std::string& path, const EvaluationResult& result) {
  write_text_atomically(path, "Mean ± std over terms (per-term means over the outer folds).\n\n" +
                                  summary_table(result));
}

void write_predictions_tsv(const std::string& path, const EvaluationResult& result,
                           const EvaluationParams& params) {
  std::ostringstream out;
  out << "method\tlayer\tstage_range\tterm\tfold\tid\tgene\tlabel\tscore\tvote\n";
  for (const auto& p : result.predictions)
    out << field(params.method) << '\t' << field(p.layer) << '\t' << p.stage_range << '\t'
        << field(p.term) << '\t' << p.fold << '\t' << field(p.id) << '\t' << field(p.gene) << '\t'
        << p.label << '\t' << format_exact(p.score) << '\t' << p.vote << '\n';
  write_text_atomically(path, out.str());
}

void write_group_predictions_tsv(const std::string& path, const EvaluationResult& result,
                                 const EvaluationParams& params) {
  std::ostringstream out;
  out << "method\tlayer\tstage_range\tterm\tfold\tgene\tlabel\tscore\tvote\timages\trule\n";
  for (const auto& g : result.group_predictions)
    out << field(params.method) << '\t' << field(g.layer) << '\t' << g.stage_range << '\t'
        << field(g.term) << '\t' << g.fold << '\t' << field(g.gene) << '\t' << g.label << '\t'
        << format_exact(g.score) << '\t' << g.vote << '\t' << g.images << '\t'
        << group_rule_name(params.group_rule) << '\n';
  write_text_atomically(path, out.str());
}

// Pooled out-of-fold ROC curve per (layer, stage range, term).
void write_roc_tsv(const std::string& path, const EvaluationResult& result,
                   const EvaluationParams& params) {
  using Key = std::tuple<std::string, std::string, std::string>;
  std::map<Key, std::pair<std::vector<double>, std::vector<uint8_t>>> pooled;
  std::vector<Key> order;
  for (const auto& p : result.predictions) {
    Key key = std::make_tuple(p.layer, p.stage_range, p.term);
    if (!pooled.count(key)) order.push_back(key);
    pooled[key].first.push_back(p.score);
    pooled[key].second.push_back(static_cast<uint8_t>(p.label));
  }
  std::ostringstream out;
  out << "method\tlayer\tstage_range\tterm\tthreshold\tfpr\ttpr\n";
  for (const auto& key : order) {
    const auto& [scores, labels] = pooled[key];
    for (const auto& point : roc_curve(scores, labels))
      out << field(params.method) << '\t' << field(std::get<0>(key)) << '\t' << std::get<1>(key)
          << '\t' << field(std::get<2>(key)) << '\t' << format_exact(point.threshold) << '\t'
          << format_exact(point.fpr) << '\t' << format_exact(point.tpr) << '\n';
  }
  write_text_atomically(path, out.str());
}

void write_skipped_tsv(const std::string& path, const EvaluationResult& result) {
  std::ostringstream out;
  out << "layer\tstage_range\tterm\tfold\treason\n";
  for (const auto& s : result.skipped)
    out << field(s.layer) << '\t' << s.stage_range << '\t' << field(s.term) << '\t'
        << (s.fold < 0 ? std::string("all") : std::to_string(s.fold)) << '\t' << field(s.reason)
        << '\n';
  write_text_atomically(path, out.str());
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
          {"inner_folds", params.inner_folds},
          {"c_grid", params.c_grid},
          {"fallback_C", params.ensemble.C},
          {"models", params.ensemble.models},
          {"inner_models", params.inner_models},
          {"solver_tolerance", params.ensemble.tolerance},
          {"preprocessing", preprocessing_name(params.preprocessing)},
          {"level", evaluation_level_name(params.level)},
          {"group_rule", group_rule_name(params.group_rule)},
          {"gram_slab_columns", params.gram.slab_columns},
          {"bias", "unregularised"},
          {"c_selection", "per term and outer fold: pooled inner-CV AUC, ties to smaller C"}};
}

void write_run_json(const std::string& path, const EvaluationResult& result,
                    const EvaluationParams& params,
                    const std::map<std::string, std::string>& provenance) {
  nlohmann::json run;
  run["format"] = "ishannot-evaluation";
  run["format_version"] = 1;
  run["versions"] = library_versions();
  for (const auto& [key, value] : provenance) run["provenance"][key] = value;
  std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  run["finished_utc"] = stamp;
  run["seed"] = params.seed;
  run["config"] = run_config(result, params);
  run["seconds"] = result.seconds;
  run["counts"] = {{"metric_rows", result.metrics.size()},
                   {"predictions", result.predictions.size()},
                   {"skipped", result.skipped.size()}};
  write_text_atomically(path, run.dump(2) + "\n");
}

}  // namespace

void write_evaluation_outputs(const std::string& dir, const EvaluationResult& result,
                              const EvaluationParams& params,
                              const std::map<std::string, std::string>& provenance) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw file_error(dir, "cannot create the output folder: " + ec.message());
  write_metrics_tsv(dir + "/metrics.tsv", result);
  write_summary_tsv(dir + "/summary.tsv", result);
  write_summary_md(dir + "/summary.md", result);
  write_predictions_tsv(dir + "/predictions.tsv", result, params);
  write_roc_tsv(dir + "/roc.tsv", result, params);
  if (params.level != EvaluationLevel::kImage)
    write_group_predictions_tsv(dir + "/group_predictions.tsv", result, params);
  write_skipped_tsv(dir + "/skipped.tsv", result);
  write_run_json(dir + "/run.json", result, params, provenance);
}

}  // namespace ishannot
