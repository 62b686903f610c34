// `ishannot report`, first half (detail/report_steps.h): read the runs, build the evaluate figures.
#include "ishannot/report/report.h"

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <set>

#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/data/dataset.h"
#include "ishannot/report/figures.h"
#include "ishannot/report/vega_render.h"
#include "report/report_html.h"
#include "report/report_steps.h"
#include "report_assets.h"

namespace ishannot {
namespace fs = std::filesystem;

namespace detail {

ReportRuns read_report_runs(const std::vector<std::string>& dirs, std::vector<std::string>& notes,
                            const Reporter& reporter) {
  ReportRuns runs;
  for (const auto& dir : dirs) {
    const RunKind kind = run_kind(dir);
    if (kind == RunKind::kEvaluation) {
      auto run = read_evaluation_run(dir);
      runs.read.push_back(
          {{"dir", dir}, {"kind", "evaluate"}, {"metric_rows", run.metrics.size()}});
      if (run.metrics.empty())
        notes.push_back(dir + ": an empty evaluate run (metrics.tsv has no rows; " +
                        std::to_string(run.skipped.rows.size()) +
                        " rows in skipped.tsv say why): nothing to plot from it");
      else
        runs.evaluations.push_back(std::move(run));
    } else {
      auto run = read_annotation_run(dir);
      runs.read.push_back({{"dir", dir}, {"kind", "annotate"}, {"rows", run.annotations.size()}});
      if (run.annotations.empty())
        notes.push_back(dir + ": an empty annotate run (annotations.tsv has no rows)");
      else
        runs.annotations.push_back(std::move(run));
    }
    reporter.info("report: read " + dir);
  }
  if (runs.evaluations.empty() && runs.annotations.empty())
    throw Error(
        "nothing to report: " + std::string(dirs.size() == 1 ? "the run is" : "every run is") +
        " empty (" + notes.front() + ")");
  return runs;
}

namespace {

// Image id -> image file, from the datasets the evaluate runs name (or params.data).
std::map<std::string, std::string> evaluation_image_paths(const std::vector<EvaluationRun>& runs,
                                                          const ReportParams& params,
                                                          std::vector<std::string>& notes) {
  std::set<std::string> sources;
  if (!params.data.empty()) sources.insert(params.data);
  for (const auto& run : runs)
    if (params.data.empty() && run.run.contains("provenance") &&
        run.run["provenance"].contains("dataset") && run.run["provenance"]["dataset"].is_string())
      sources.insert(run.run["provenance"]["dataset"].get<std::string>());
  std::map<std::string, std::string> paths;
  for (const auto& source : sources) {
    try {
      const Dataset dataset =
          fs::is_regular_file(source) ? read_manifest(source, false) : read_dataset(source);
      for (const auto& image : dataset.images)
        if (!image.path.empty()) paths.emplace(image.id, image.path);
    } catch (const Error& e) {
      notes.push_back(std::string("no thumbnails from dataset ") + source + ": " + e.what() +
                      " (give --data)");
    }
  }
  if (sources.empty())
    notes.push_back("no thumbnails: the runs' run.json names no dataset (give --data)");
  return paths;
}

// "METHOD" or "METHOD@LAYER" -> a side of Figure 7 in one stage range.
MethodLayer parse_side(const std::string& text, const Comparison& c, const std::string& stage) {
  const size_t at = text.find('@');
  MethodLayer side{text.substr(0, at), at == std::string::npos ? "" : text.substr(at + 1)};
  if (!c.layers.count(side.method))
    throw Error("--compare " + text + ": no run has method '" + side.method + "'");
  if (side.layer.empty()) side.layer = c.layer_shown(side.method, stage);
  return side;
}

std::vector<Figure> agreement_figures(const std::vector<EvaluationRun>& runs, const Comparison& c,
                                      const ReportParams& params,
                                      const std::map<std::string, std::string>& image_paths,
                                      Thumbnails& thumbnails, std::vector<std::string>& notes) {
  std::vector<const std::vector<MethodPrediction>*> predictions;
  for (const auto& run : runs) predictions.push_back(&run.predictions);
  std::vector<Figure> figures;
  for (const auto& stage : c.stage_ranges) {
    std::optional<std::pair<MethodLayer, MethodLayer>> sides;
    if (params.compare.size() == 2)
      sides = std::make_pair(parse_side(params.compare[0], c, stage),
                             parse_side(params.compare[1], c, stage));
    else
      sides = default_agreement_pair(c, stage);
    if (!sides || sides->first.layer.empty() || sides->second.layer.empty()) {
      notes.push_back("Figure 7, " + stage +
                      ": needs two methods (or two layers) with results there");
      continue;
    }
    const AgreementMap map =
        agreement_map(predictions, sides->first, sides->second, stage, params.agreement_images);
    if (map.images_with_other_truth > 0)
      notes.push_back(
          "Figure 7, " + stage + ": " + std::to_string(map.images_with_other_truth) +
          " images have another annotation in the two runs (other datasets?): left out");
    if (map.images.empty() || map.terms.empty()) {
      notes.push_back("Figure 7, " + stage + ": no image predicted by both " + sides->first.name() +
                      " and " + sides->second.name() + " (predictions.tsv missing or disjoint)");
      continue;
    }
    std::map<std::string, std::string> thumbs;
    for (const auto& image : map.images) {
      const auto at = image_paths.find(image.id);
      if (at != image_paths.end()) thumbs[image.id] = thumbnails.data_uri(at->second);
    }
    figures.push_back(agreement_figure(map, thumbs));
  }
  return figures;
}

}  // namespace

std::vector<Figure> evaluation_figures(const std::vector<EvaluationRun>& runs, const Comparison& c,
                                       const ReportParams& params, Thumbnails& thumbnails,
                                       std::vector<std::string>& notes) {
  std::vector<Figure> figures = {table2_figure(c)};
  if (auto layers = layer_figure(c))
    figures.push_back(*layers);
  else
    notes.push_back("Figures 3/4: no method has results for two layers (evaluate --layers A,B)");
  figures.push_back(methods_figure(c));
  figures.push_back(terms_figure(c));
  if (auto bags = bag_figure(runs)) figures.push_back(*bags);
  const auto paths = evaluation_image_paths(runs, params, notes);
  for (auto& f : agreement_figures(runs, c, params, paths, thumbnails, notes)) figures.push_back(f);
  std::vector<const std::vector<RocRow>*> roc;
  for (const auto& run : runs) roc.push_back(&run.roc);
  for (const auto& stage : c.stage_ranges) {
    if (auto f = roc_figure(c, roc, stage))
      figures.push_back(*f);
    else if (runs.size() > 1 && c.shared_terms(stage).empty())
      notes.push_back("ROC curves, " + stage +
                      ": the runs share no term (a panel per term needs a term every run has)");
    else
      notes.push_back("ROC curves, " + stage + ": no roc.tsv rows");
  }
  return figures;
}

}  // namespace detail

std::string ReportParams::check() const {
  if (agreement_images < 1) return "--agreement-images must be at least 1";
  if (gallery_images < 0) return "--gallery-images must be 0 or more";
  if (gallery_terms < 1) return "--gallery-terms must be at least 1";
  if (!compare.empty() && compare.size() != 2)
    return "--compare takes two methods (METHOD or METHOD@LAYER), comma-separated";
  return "";
}

}  // namespace ishannot
