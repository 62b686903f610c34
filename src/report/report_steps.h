#pragma once
// Internal: the steps of write_report (report/report.h), one function each.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ishannot/common/progress.h"
#include "ishannot/report/comparison.h"
#include "ishannot/report/figures.h"
#include "ishannot/report/report.h"
#include "ishannot/report/thumbnails.h"
#include "report/report_html.h"

namespace ishannot::detail {

/// The runs of a report, read.
struct ReportRuns {
  std::vector<EvaluationRun> evaluations;  ///< evaluate runs with metrics
  std::vector<AnnotationRun> annotations;  ///< annotate runs with rows
  std::vector<nlohmann::json> read;        ///< every folder: dir, kind, rows (report.json)
};

/// Reads every folder (Error for one that is not an output); empty runs become notes; Error
/// "nothing to report" when no run has anything.
ReportRuns read_report_runs(const std::vector<std::string>& dirs, std::vector<std::string>& notes,
                            const Reporter& reporter);

/// Table 2 and Figures 3-7 and the ROC curves of the evaluate runs, in page order.
std::vector<Figure> evaluation_figures(const std::vector<EvaluationRun>& runs, const Comparison& c,
                                       const ReportParams& params, Thumbnails& thumbnails,
                                       std::vector<std::string>& notes);

/// The page's first section: per run, the data it was computed on — synthetic (a manifest beside
/// synth.json: made by ishannot synth) or real images — with its genes and images.
PageSection data_section(const ReportRuns& runs);

}  // namespace ishannot::detail
