#pragma once
// The output folders `ishannot report` reads, as data. Two kinds, told apart by their files:
//   evaluate: metrics.tsv + run.json (and predictions.tsv, roc.tsv, skipped.tsv;
//   docs/EVALUATION.md) annotate: annotations.tsv + run.json (and groups.tsv, heatmaps/index.tsv,
//   skipped.tsv)
// Every TSV is read by column name, never by position: the formats may gain columns (e.g.
// stage_order) without breaking the report. Only the columns named below are required; an
// optional file that is missing reads as empty. Bad files throw Error naming the file (and line).
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ishannot/eval/evaluation.h"

namespace ishannot {

/// What an output folder is.
enum class RunKind { kEvaluation, kAnnotation };

/// The kind of DIR: kEvaluation when it has metrics.tsv and run.json, kAnnotation when it has
/// annotations.tsv and run.json. Error "DIR: ..." saying what is missing otherwise.
RunKind run_kind(const std::string& dir);

/// An out-of-fold prediction (predictions.tsv) with the method that made it.
struct MethodPrediction {
  std::string method;
  PredictionRow prediction;
};

/// A pooled out-of-fold ROC point (roc.tsv): predicted positive when score >= threshold.
struct RocRow {
  std::string method, layer, stage_range, term;
  double threshold = 0;
  double fpr = 0;
  double tpr = 0;
};

/// A table read as text (skipped.tsv, whose columns vary): its header and rows.
struct TextTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

/// One `evaluate` output folder.
struct EvaluationRun {
  std::string dir;
  nlohmann::json run;                         ///< run.json as written
  std::vector<MetricRow> metrics;             ///< metrics.tsv (method, layer, stage_range, ...)
  std::vector<MethodPrediction> predictions;  ///< predictions.tsv (empty when absent)
  std::vector<RocRow> roc;                    ///< roc.tsv (empty when absent)
  TextTable skipped;                          ///< skipped.tsv (empty when absent)
  /// Layer configurations in evaluated order: run.json's config.layers, then any other layer
  /// of metrics.tsv in order of appearance.
  std::vector<std::string> layers;
};

/// Reads an evaluate folder. Required: run.json (a JSON object), metrics.tsv with columns
/// method, layer, stage_range, term, fold, metric, value. Stage ranges are normalised.
EvaluationRun read_evaluation_run(const std::string& dir);

/// One image x term row of annotations.tsv.
struct AnnotationRow {
  std::string image;        ///< image id
  std::string path;         ///< the image file, resolved (as written, else relative to the run)
  std::string gene;         ///< "" when unknown
  std::string stage_range;  ///< normalised when it is a known stage range
  std::string term;
  double score = 0;   ///< mean member probability, in [0, 1]
  int votes = 0;      ///< members voting positive
  int members = 0;    ///< ensemble size
  int predicted = 0;  ///< 0/1: the ensemble's majority vote
  double probability = std::numeric_limits<double>::quiet_NaN();  ///< calibrated; NaN: none
  std::string call;                                               ///< yes | no | uncertain
  double term_auc = std::numeric_limits<double>::quiet_NaN();     ///< the term's CV AUC; NaN: none
  bool validated = false;  ///< the term passed cross-validation (annotations.tsv `validated`)
};

/// One gene x stage range x term row of groups.tsv (group-level annotation).
struct GroupRow {
  std::string gene, stage_range, term;
  double score = 0;
  int predicted = 0;
  int images = 0;    ///< images of the group
  std::string rule;  ///< how image scores became the group's (as annotate wrote it)
  double probability = std::numeric_limits<double>::quiet_NaN();  ///< calibrated; NaN: none
  std::string call;                                               ///< yes | no | uncertain
  bool validated = false;
};

/// One image of a group call in group_evidence.tsv (annotate with a bag bundle): its share of the
/// group's linear score, images ranked within (group, term).
struct GroupEvidenceRow {
  std::string gene, stage_range, term;
  int group_label = 0;
  double group_score = 0;
  int rank = 0;  ///< 1 = the image that contributes most
  std::string image, path;
  double contribution = 0;  ///< in decision units (log-odds)
  double share = 0;         ///< contribution / sum of |contributions| of the group's images
};

/// One heat map of heatmaps/index.tsv: an overlay of a term's evidence map on the image.
struct HeatmapRow {
  std::string image, stage_range, term;
  double score = 0;
  std::string file;  ///< resolved path of the PNG (index.tsv gives it relative to heatmaps/)
};

/// One bin of reliability.tsv (annotate with data that carry terms): calls with a probability in
/// [bin_low, bin_high) and the share of them that carry the term.
struct ReliabilityRow {
  std::string level, stage_range;
  double bin_low = 0, bin_high = 0;
  int64_t n = 0;
  double mean_probability = 0, fraction_positive = 0;  ///< NaN when n = 0
};

/// One `annotate` output folder.
struct AnnotationRun {
  std::string dir;
  nlohmann::json run;
  std::vector<AnnotationRow> annotations;
  std::vector<GroupRow> groups;             ///< empty when groups.tsv is absent
  std::vector<GroupEvidenceRow> evidence;   ///< group_evidence.tsv (bag bundles); may be empty
  std::vector<HeatmapRow> heatmaps;         ///< empty when heatmaps/index.tsv is absent or empty
  std::vector<ReliabilityRow> reliability;  ///< empty when reliability.tsv is absent
  TextTable skipped;
};

/// Reads an annotate folder. Required: run.json, annotations.tsv with columns image, path, gene,
/// stage_range, term, score, votes, members, predicted, probability, call, term_auc, validated
/// (common/output_columns.h). A folder written before the rename of `label` to `predicted` is an
/// Error that says to rerun annotate.
AnnotationRun read_annotation_run(const std::string& dir);

/// Sorts stage-range names biologically, removing duplicates.
std::vector<std::string> sorted_stage_ranges(std::vector<std::string> stage_ranges);

}  // namespace ishannot
