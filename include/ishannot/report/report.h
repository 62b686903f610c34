#pragma once
// `ishannot report`: the results people look at. Reads evaluate and annotate output folders
// (report/run_outputs.h) and writes
//   OUT/index.html           one self-contained page: opens offline in any browser (figures as
//                            inline SVG, thumbnails as data URIs, the vega scripts inlined for
//                            interactivity; a Content-Security-Policy forbids any network access)
//   OUT/figures/ID.svg       every figure standalone (for papers), rendered by Vega-Lite
//   OUT/figures/ID.vl.json   its Vega-Lite spec with the data (to restyle it)
//   OUT/report.json          provenance: tool version, command, runs read, vega versions, notes
// The figures: Table 2 beside the paper's values, Figures 3/4 (AUC by layer), 5 (methods), 6
// (per-term AUC), 7 (image x term agreement map), ROC curves per term, and for annotate runs a
// gallery and the group-level annotation. docs/REPORT.md says how to read each one.
//
// Bad input: a folder that is not an evaluate/annotate output is an Error (one line naming it);
// an empty run, stage ranges or terms that not every run has, missing thumbnails... become
// visible notes in the report; nothing reportable at all is an Error.
#include <map>
#include <string>
#include <vector>

#include "ishannot/common/progress.h"
#include "ishannot/common/provenance.h"
#include "ishannot/report/comparison.h"

namespace ishannot {

struct ReportParams {
  std::string title = "ishannot report";
  /// Dataset giving the image files of evaluate runs (thumbnails): "" = the one each run.json
  /// names (provenance.dataset), read relative to the current folder.
  std::string data;
  ComparisonParams comparison;  ///< fixed layers per method (default: best mean AUC)
  /// Figure 7's two sides, "METHOD" (at its shown layer) or "METHOD@LAYER"; empty = the best and
  /// the worst method (a single method: its best and worst layers).
  std::vector<std::string> compare;
  int agreement_images = 50;  ///< Figure 7's rows per stage range (the paper shows 50)
  int gallery_images = 60;    ///< images per annotate run in the gallery
  int gallery_terms = 5;      ///< top terms per gallery image
  int max_group_rows = 500;   ///< rows of the group-level table per annotate run
  std::string vega_dir;       ///< "" = cache_dir()/vega (scripts/setup.sh)
  Provenance provenance;      ///< report.json's `provenance`; its footer names version and command
  std::string check() const;
};

/// What write_report wrote.
struct ReportResult {
  std::string index;                 ///< OUT/index.html
  std::vector<std::string> figures;  ///< OUT/figures/ID.svg, in page order
  std::vector<std::string> notes;    ///< what the report could not show, and why (also on the page)
  std::vector<std::string> warnings;  ///< Vega's warnings while rendering
};

/// Writes the report of `runs` into `out_dir` (created). Every file is written atomically;
/// index.html last. Throws Error for a folder that is not an output, unreadable files, nothing
/// to report, or a missing renderer (node, vega: "run scripts/setup.sh").
ReportResult write_report(const std::vector<std::string>& runs, const std::string& out_dir,
                          const ReportParams& params, const Reporter& reporter = {});

}  // namespace ishannot
