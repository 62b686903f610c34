// The table of output columns (common/output_columns.h): evaluate, annotate, report.
#include "ishannot/common/output_columns.h"

#include <set>
#include <sstream>

#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"

namespace ishannot {

namespace {

// Columns shared by several files, spelled once.
const char* kStageRange = "BDGP stage range (1-3, 4-6, 7-8, 9-10, 11-12, 13-16)";
const char* kStageOrder = "1..6 for 1-3..13-16: sorts stage ranges in biological order";
const char* kMethod = "feature method label (TL, TL+MTL, SC...; evaluate --method)";
const char* kLayer = "feature layer (or '+'-joined layers when concatenated)";
const char* kTerm = "controlled-vocabulary (CV) anatomy term";
const char* kFold = "outer cross-validation fold (0-based; genes never span folds)";
const char* kScore =
    "ensemble score: mean of the members' sigmoid probabilities (raw, not calibrated)";
const char* kPredicted = "the ensemble's majority vote: 1 when more than half the members say yes";
const char* kTrueLabel = "the truth: 1 when the data annotate the term (for a group: any image)";
const char* kProbability =
    "calibrated probability of the term (the bundle's per-term Platt or isotonic calibration "
    "of the score, fitted on out-of-fold CV scores); empty when the term has no calibration";
const char* kCall =
    "yes (probability above the no-call band), no (below it) or uncertain (inside the band, no "
    "probability, or the term not validated); band and rule in run.json";
const char* kTermAuc = "the term's cross-validated AUC at training (mean over folds); empty: none";
const char* kTermFolds = "CV folds that gave the term an AUC at training";
const char* kTermGenes = "training genes carrying the term";
const char* kTermPositives = "training images carrying the term";
const char* kValidated =
    "1 when the term's CV AUC was measured on >= 2 folds and is >= the minimum AUC (run.json)";
const char* kOntology = "--ontology";
const char* kTermId =
    "the term's ontology id (FBbt:...) from the --ontology OBO file (annotate: also from a bundle "
    "trained with --ontology, its term_ids); empty: the term did not resolve (terms.tsv: why)";

// After every `term` row, the `term_id` column --ontology inserts right after it in the file.
std::vector<ColumnDoc> with_term_ids(const std::vector<ColumnDoc>& table) {
  std::vector<ColumnDoc> out;
  for (const auto& c : table) {
    out.push_back(c);
    if (c.column == "term") out.push_back({c.file, "term_id", kTermId, "", kOntology});
  }
  return out;
}

// terms.tsv: how each term of the run resolved in the --ontology file (ontology/term_resolution.h
// write_term_resolutions, which writes this header itself).
std::vector<ColumnDoc> terms_tsv() {
  const char* f = "terms.tsv";
  return {
      {f, "", "how each term of the outputs resolved in the ontology", "", kOntology},
      {f, "term", kTerm, "", kOntology},
      {f, "term_id", "its ontology id; empty: ambiguous, unresolved or not anatomy", "", kOntology},
      {f, "ontology_name", "the ontology's name for that id", "", kOntology},
      {f, "status", "resolved, ambiguous, unresolved or not anatomy (docs/SHARING.md)", "",
       kOntology},
      {f, "rule", "the rule that resolved it (name, EXACT synonym, BDGP naming rule...)", "",
       kOntology},
      {f, "candidates", "'; '-joined candidate ids and names when it did not resolve", "",
       kOntology},
      {f, "ontology_version", "the OBO file's ontology and data-version", "", kOntology},
  };
}

// The two columns annotate --propagate appends to annotations.tsv and groups.tsv.
std::vector<ColumnDoc> propagation(const std::string& file) {
  const char* with = "--ontology --propagate";
  return {{file, "propagated",
           "1: a row added for an ancestor (is_a, part_of) of a term called positive (predicted = "
           "1) in the same image or group, copied from its best-scoring positive descendant (its "
           "score, call and trust columns are that descendant's); 0: the model's own row",
           "0/1", with},
          {file, "implied_by",
           "the descendant term a propagated row copies; empty on the model's own rows", "", with}};
}

std::vector<ColumnDoc> evaluate_table() {
  return {
      {"metrics.tsv", "", "one row per method, layer, stage range, term, fold and metric", ""},
      {"metrics.tsv", "method", kMethod, ""},
      {"metrics.tsv", "layer", kLayer, ""},
      {"metrics.tsv", "stage_range", kStageRange, ""},
      {"metrics.tsv", "stage_order", kStageOrder, ""},
      {"metrics.tsv", "term", kTerm, ""},
      {"metrics.tsv", "fold", kFold, ""},
      {"metrics.tsv", "metric",
       "auc, accuracy, sensitivity, specificity, C, test_positives, test_negatives; group_* at "
       "the gene x stage-range level (group_f1: macro-F1's per-term F1)",
       ""},
      {"metrics.tsv", "value", "the metric's value", "fraction (0-1); C: inverse regularisation"},
      {"metrics.tsv", "unit",
       "what was learnt from: image (the paper) or bag (gene x stage-range bags, --unit bag)", ""},
      {"metrics.tsv", "bag_pool",
       "how a bag's images were pooled (mean, max, meanmax); empty: image", ""},
      {"summary.tsv", "", "Table 2: per method, layer, stage range and metric, over terms", ""},
      {"summary.tsv", "method", kMethod, ""},
      {"summary.tsv", "layer", kLayer, ""},
      {"summary.tsv", "stage_range", kStageRange, ""},
      {"summary.tsv", "stage_order", kStageOrder, ""},
      {"summary.tsv", "metric", "as in metrics.tsv", ""},
      {"summary.tsv", "mean_over_terms", "mean over terms of each term's mean over folds",
       "fraction"},
      {"summary.tsv", "std_over_terms", "sample standard deviation over terms", "fraction"},
      {"summary.tsv", "terms", "terms averaged", "count"},
      {"summary.tsv", "terms_requested", "terms selected (top-k)", "count"},
      {"summary.tsv", "test_images", "test images over folds", "count"},
      {"summary.tsv", "mean_over_folds", "mean over folds of the per-fold mean over terms",
       "fraction"},
      {"summary.tsv", "std_over_folds", "standard deviation over folds", "fraction"},
      {"summary.tsv", "folds", "folds averaged", "count"},
      {"summary.md", "", "Table 2 as Markdown (mean ± std over terms)", ""},
      {"predictions.tsv", "", "out-of-fold predictions: one row per test image and term", ""},
      {"predictions.tsv", "method", kMethod, ""},
      {"predictions.tsv", "layer", kLayer, ""},
      {"predictions.tsv", "stage_range", kStageRange, ""},
      {"predictions.tsv", "stage_order", kStageOrder, ""},
      {"predictions.tsv", "term", kTerm, ""},
      {"predictions.tsv", "fold", kFold, ""},
      {"predictions.tsv", "id", "image id", ""},
      {"predictions.tsv", "gene", "gene symbol", ""},
      {"predictions.tsv", "true_label", kTrueLabel, "0/1"},
      {"predictions.tsv", "score", kScore, "probability-like (0-1)"},
      {"predictions.tsv", "predicted", kPredicted, "0/1"},
      {"group_predictions.tsv", "", "out-of-fold predictions per gene x stage range and term", ""},
      {"group_predictions.tsv", "method", kMethod, ""},
      {"group_predictions.tsv", "layer", kLayer, ""},
      {"group_predictions.tsv", "stage_range", kStageRange, ""},
      {"group_predictions.tsv", "stage_order", kStageOrder, ""},
      {"group_predictions.tsv", "term", kTerm, ""},
      {"group_predictions.tsv", "fold", kFold, ""},
      {"group_predictions.tsv", "gene", "gene symbol", ""},
      {"group_predictions.tsv", "true_label", kTrueLabel, "0/1"},
      {"group_predictions.tsv", "score", "the images' scores aggregated by the group rule",
       "probability-like (0-1)"},
      {"group_predictions.tsv", "predicted", "the group rule's decision", "0/1"},
      {"group_predictions.tsv", "images", "images of the group", "count"},
      {"group_predictions.tsv", "rule", "group rule: mean, max or votes (eval/groups.h)", ""},
      {"roc.tsv", "", "pooled out-of-fold ROC curve per layer, stage range and term", ""},
      {"roc.tsv", "method", kMethod, ""},
      {"roc.tsv", "layer", kLayer, ""},
      {"roc.tsv", "stage_range", kStageRange, ""},
      {"roc.tsv", "stage_order", kStageOrder, ""},
      {"roc.tsv", "term", kTerm, ""},
      {"roc.tsv", "threshold", "predicted positive when score >= threshold", "score"},
      {"roc.tsv", "fpr", "false-positive rate", "fraction"},
      {"roc.tsv", "tpr", "true-positive rate", "fraction"},
      {"skipped.tsv", "", "what was not evaluated and why", ""},
      {"skipped.tsv", "method", kMethod, ""},
      {"skipped.tsv", "layer", kLayer, ""},
      {"skipped.tsv", "stage_range", kStageRange, ""},
      {"skipped.tsv", "stage_order", kStageOrder, ""},
      {"skipped.tsv", "term", kTerm, ""},
      {"skipped.tsv", "fold", "the fold, or empty for every fold", ""},
      {"skipped.tsv", "reason", "why", ""},
      {"run.json", "", "configuration, provenance, library versions, counts, routine notes", ""},
      {"columns.tsv", "", "this table: file, column, meaning, unit", ""},
  };
}

std::vector<ColumnDoc> evaluate_table_with_ontology() {
  std::vector<ColumnDoc> t = with_term_ids(evaluate_table());
  for (auto& c : terms_tsv()) t.push_back(c);
  return t;
}

std::vector<ColumnDoc> term_trust(const std::string& file) {
  return {{file, "term_auc", kTermAuc, "AUC (0-1)"},
          {file, "term_cv_folds", kTermFolds, "count"},
          {file, "term_positive_genes", kTermGenes, "count"},
          {file, "term_positives", kTermPositives, "count"},
          {file, "validated", kValidated, "0/1"}};
}

// The files of annotate beyond the image run's: a bag bundle's evidence and the registration
// check.
std::vector<ColumnDoc> annotate_extra_table() {
  return {
      {"group_evidence.tsv", "",
       "only for a bag bundle (train --unit bag): each image's share of its group's linear score "
       "(mean, max pooling) or its attention weight (attention)",
       ""},
      {"group_evidence.tsv", "gene", "gene symbol", ""},
      {"group_evidence.tsv", "stage_range", kStageRange, ""},
      {"group_evidence.tsv", "stage_order", kStageOrder, ""},
      {"group_evidence.tsv", "term", kTerm, ""},
      {"group_evidence.tsv", "group_predicted", "the group's majority vote (groups.tsv predicted)",
       "0/1"},
      {"group_evidence.tsv", "group_score", "the group's score (groups.tsv score)", "0-1"},
      {"group_evidence.tsv", "rank", "the image's rank in the group, largest contribution first",
       "1.."},
      {"group_evidence.tsv", "image", "image id", ""},
      {"group_evidence.tsv", "path", "the image file, absolute", ""},
      {"group_evidence.tsv", "contribution",
       "the image's part of the members' mean decision, without the bias; attention: the "
       "image's attention weight for the term",
       "log-odds; attention: 0-1"},
      {"group_evidence.tsv", "share",
       "contribution / the sum of |contribution| over the group (attention: the weight again, "
       "summing to 1 over the group)",
       "fraction (-1..1)"},
      {"registration.tsv", "",
       "whether each image looks registered like BDGP's (standardize/registration_check.h)", ""},
      {"registration.tsv", "image", "image id", ""},
      {"registration.tsv", "path", "the image file", ""},
      {"registration.tsv", "read", "the file could be decoded", "0/1"},
      {"registration.tsv", "found", "an embryo was found", "0/1"},
      {"registration.tsv", "angle_deg", "the embryo's long axis, counter-clockwise on screen",
       "degrees (-90, 90]"},
      {"registration.tsv", "area_fraction", "embryo pixels / image pixels", "fraction"},
      {"registration.tsv", "ap_mirrored", "the orientation model decides anterior is right", "0/1"},
      {"registration.tsv", "ap_confidence", "its confidence in that decision", "0.5-1"},
      {"registration.tsv", "dv_mirrored", "the orientation model decides dorsal is down", "0/1"},
      {"registration.tsv", "dv_confidence", "its confidence in that decision", "0.5-1"},
      {"registration.tsv", "concerns",
       "why the image does not look registered, '; '-separated (empty: it does)", ""},
  };
}

std::vector<ColumnDoc> annotate_table() {
  std::vector<ColumnDoc> t = {
      {"annotations.tsv", "", "one row per image and term of its stage range", ""},
      {"annotations.tsv", "image", "image id", ""},
      {"annotations.tsv", "path", "the image file, absolute", ""},
      {"annotations.tsv", "gene", "gene symbol (empty when unknown)", ""},
      {"annotations.tsv", "stage_range", kStageRange, ""},
      {"annotations.tsv", "stage_order", kStageOrder, ""},
      {"annotations.tsv", "term", kTerm, ""},
      {"annotations.tsv", "score", kScore, "probability-like (0-1)"},
      {"annotations.tsv", "votes", "members whose decision is positive", "count"},
      {"annotations.tsv", "members", "ensemble size M", "count"},
      {"annotations.tsv", "predicted", kPredicted, "0/1"},
      {"annotations.tsv", "probability", kProbability, "probability (0-1)"},
      {"annotations.tsv", "call", kCall, "yes/no/uncertain"},
  };
  for (auto& c : term_trust("annotations.tsv")) t.push_back(c);
  for (auto& c : propagation("annotations.tsv")) t.push_back(c);
  std::vector<ColumnDoc> groups = {
      {"groups.tsv", "", "one row per gene x stage range and term (how BDGP annotates)", ""},
      {"groups.tsv", "gene", "gene symbol", ""},
      {"groups.tsv", "stage_range", kStageRange, ""},
      {"groups.tsv", "stage_order", kStageOrder, ""},
      {"groups.tsv", "term", kTerm, ""},
      {"groups.tsv", "score",
       "the images' scores aggregated by the group rule (bag:POOL: the bag model's score of the "
       "pooled group)",
       "0-1"},
      {"groups.tsv", "predicted", "the group rule's decision on the images' predictions", "0/1"},
      {"groups.tsv", "images", "images of the group", "count"},
      {"groups.tsv", "rule",
       "group rule: mean, max or votes (eval/groups.h); bag:POOL for a bag bundle", ""},
      {"groups.tsv", "probability",
       "the images' probabilities aggregated by the group rule (mean; max for max)",
       "probability (0-1)"},
      {"groups.tsv", "call", kCall, "yes/no/uncertain"},
  };
  for (auto& c : groups) t.push_back(c);
  for (auto& c : term_trust("groups.tsv")) t.push_back(c);
  for (auto& c : propagation("groups.tsv")) t.push_back(c);
  std::vector<ColumnDoc> rest = {
      {"validation.tsv", "",
       "only when the data carry terms: the calls checked against them, per level, stage range "
       "and term, and over all terms ('all')",
       ""},
      {"validation.tsv", "level", "image or group (gene x stage range)", ""},
      {"validation.tsv", "stage_range", kStageRange, ""},
      {"validation.tsv", "stage_order", kStageOrder, ""},
      {"validation.tsv", "term", "the term, or 'all' (pooled over the stage range's terms)", ""},
      {"validation.tsv", "validated", kValidated, "0/1"},
      {"validation.tsv", "n", "images (or groups) compared", "count"},
      {"validation.tsv", "positives", "of them carrying the term in the data", "count"},
      {"validation.tsv", "auc", "AUC of the score against the truth; empty: one class only",
       "AUC (0-1)"},
      {"validation.tsv", "yes", "calls 'yes'", "count"},
      {"validation.tsv", "no", "calls 'no'", "count"},
      {"validation.tsv", "uncertain", "calls 'uncertain'", "count"},
      {"validation.tsv", "precision", "of the 'yes' calls, the share that carry the term",
       "fraction"},
      {"validation.tsv", "recall", "of those carrying the term, the share called 'yes'",
       "fraction"},
      {"validation.tsv", "predicted_precision", "precision of the majority vote (predicted = 1)",
       "fraction"},
      {"validation.tsv", "predicted_recall", "recall of the majority vote", "fraction"},
      {"validation.tsv", "brier", "mean (probability - truth)^2 where there is a probability",
       "probability^2"},
      {"validation.tsv", "ece", "expected calibration error over 10 equal-width bins",
       "probability"},
      {"reliability.tsv", "",
       "only with validation.tsv: reliability diagram bins per level and stage range, all terms",
       ""},
      {"reliability.tsv", "level", "image or group", ""},
      {"reliability.tsv", "stage_range", kStageRange, ""},
      {"reliability.tsv", "stage_order", kStageOrder, ""},
      {"reliability.tsv", "bin_low", "lower edge of the probability bin", "probability"},
      {"reliability.tsv", "bin_high", "upper edge", "probability"},
      {"reliability.tsv", "n", "calls with a probability in the bin", "count"},
      {"reliability.tsv", "mean_probability", "mean probability in the bin", "probability"},
      {"reliability.tsv", "fraction_positive", "share of them carrying the term", "fraction"},
      {"heatmaps/index.tsv", "", "the heat maps written", ""},
      {"heatmaps/index.tsv", "image", "image id", ""},
      {"heatmaps/index.tsv", "stage_range", kStageRange, ""},
      {"heatmaps/index.tsv", "term", kTerm, ""},
      {"heatmaps/index.tsv", "score", kScore, "probability-like (0-1)"},
      {"heatmaps/index.tsv", "file", "the PNG, relative to heatmaps/", ""},
      {"skipped.tsv", "", "images not annotated", ""},
      {"skipped.tsv", "file", "the image file (or id)", ""},
      {"skipped.tsv", "reason", "why", ""},
      {"run.json", "", "provenance, bundle, features, call band, counts, seconds", ""},
      {"columns.tsv", "", "this table: file, column, meaning, unit", ""},
  };
  for (auto& c : rest) t.push_back(c);
  for (auto& c : annotate_extra_table()) t.push_back(c);
  t = with_term_ids(t);
  for (auto& c : terms_tsv()) t.push_back(c);
  return t;
}

std::vector<ColumnDoc> report_table() {
  return {
      {"index.html", "", "the report: one self-contained page (figures, tables, gallery)", ""},
      {"figures/", "", "every figure as a standalone SVG and its Vega-Lite spec (.vl.json)", ""},
      {"report.json", "", "provenance: the runs read, their files and the tool version", ""},
      {"columns.tsv", "",
       "this table; the columns of the runs' own files are in each run folder's columns.tsv", ""},
      {"terms.tsv", "", "how each term of the runs resolved (columns: a run folder's terms.tsv)",
       "", kOntology},
  };
}

}  // namespace

const std::vector<ColumnDoc>& output_columns(OutputKind kind) {
  static const std::vector<ColumnDoc> evaluate = evaluate_table_with_ontology();
  static const std::vector<ColumnDoc> annotate = annotate_table();
  static const std::vector<ColumnDoc> report = report_table();
  return kind == OutputKind::kEvaluate   ? evaluate
         : kind == OutputKind::kAnnotate ? annotate
                                         : report;
}

std::vector<std::string> column_names(OutputKind kind, const std::string& file) {
  std::vector<std::string> out;
  for (const auto& c : output_columns(kind))
    if (c.file == file && !c.column.empty() && c.only_with.empty()) out.push_back(c.column);
  if (out.empty()) throw Error("output_columns: no columns documented for " + file);
  return out;
}

std::string tsv_header(OutputKind kind, const std::string& file) {
  std::string line;
  for (const auto& c : column_names(kind, file)) line += (line.empty() ? "" : "\t") + c;
  return line + "\n";
}

void write_columns_tsv(const std::string& dir, OutputKind kind,
                       const std::vector<std::string>& files) {
  std::set<std::string> optional_files;  // written only with an option (terms.tsv)
  for (const auto& c : output_columns(kind))
    if (c.column.empty() && !c.only_with.empty()) optional_files.insert(c.file);
  std::ostringstream out;
  out << "file\tcolumn\tmeaning\tunit\n";
  for (const auto& c : output_columns(kind)) {
    bool wanted = files.empty() || c.file == "columns.tsv" || optional_files.count(c.file);
    for (const auto& f : files) wanted = wanted || f == c.file;
    if (!wanted) continue;
    const std::string meaning =
        c.only_with.empty() ? c.meaning : "only with " + c.only_with + ": " + c.meaning;
    out << c.file << '\t' << c.column << '\t' << meaning << '\t' << c.unit << '\n';
  }
  write_text_atomically(dir + "/columns.tsv", out.str());
}

}  // namespace ishannot
