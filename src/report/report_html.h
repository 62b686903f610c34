#pragma once
// Internal: the HTML pieces of the report page (report/report.h). Everything user-supplied goes
// through html_escape; JSON inlined in <script> has '<' escaped so it cannot close the element.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ishannot/report/comparison.h"
#include "ishannot/report/figures.h"
#include "ishannot/report/run_outputs.h"
#include "ishannot/report/thumbnails.h"

namespace ishannot::detail {

/// Text safe inside HTML elements and attribute values.
std::string html_escape(const std::string& text);

/// JSON text safe inside <script type="application/json">.
std::string script_json(const nlohmann::json& value);

/// A section of the page, in order.
struct PageSection {
  std::string id, title, html;
};

/// Everything the page is made of.
struct PageParts {
  std::string title;
  std::string meta;                ///< a line under the title (escaped HTML)
  std::vector<std::string> notes;  ///< plain text, shown in a box at the top
  std::vector<PageSection> sections;
  std::vector<std::string> scripts;  ///< script texts inlined in order (vega..., page.js)
  std::string footer;                ///< escaped HTML
};

/// The whole index.html.
std::string page_html(const PageParts& parts);

/// A figure: its static SVG (shown without JavaScript) and its spec for the interactive view.
std::string figure_html(const Figure& figure, const std::string& svg);

/// Table 2 as an HTML table: mean ± std over terms per metric x method x stage range, the
/// paper's published value in a separate, labelled column.
std::string table2_html(const Comparison& comparison);

/// A run.json as a two-column table (nested keys joined with '.').
std::string provenance_table_html(const nlohmann::json& run);

/// skipped.tsv: how many rows per reason, then the rows (collapsed).
std::string skipped_html(const TextTable& skipped);

/// The gallery of an annotate run: the first `images` images (stage order, gene, id), each with
/// its thumbnail, its `terms` best-scored terms and their heat maps. Adds notes (truncation,
/// missing thumbnails).
std::string gallery_html(const AnnotationRun& run, Thumbnails& thumbnails, int images, int terms,
                         std::vector<std::string>& notes);

/// groups.tsv as a table (gene, stage range, score descending), at most `max_rows` rows.
std::string groups_table_html(const AnnotationRun& run, int max_rows,
                              std::vector<std::string>& notes);

/// The group calls of a bag bundle's annotate run (group_evidence.tsv, label 1): per call, its
/// images ordered by their share of the group's score, with thumbnails; at most `max_calls`
/// calls (highest scores first). "" without evidence.
std::string group_evidence_html(const AnnotationRun& run, Thumbnails& thumbnails, int max_calls,
                                std::vector<std::string>& notes);

}  // namespace ishannot::detail
