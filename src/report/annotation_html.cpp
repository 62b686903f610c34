// The annotate side of the report page: the gallery and the group-level table
// (detail/report_html.h).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>
#include <tuple>

#include "report/report_html.h"

namespace ishannot::detail {

namespace {

std::string fixed3(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

// One gallery card: thumbnail, ids, the best-scored terms with bars, their heat maps.
std::string card_html(const std::vector<const AnnotationRow*>& rows,
                      const std::map<std::pair<std::string, std::string>, const HeatmapRow*>& maps,
                      Thumbnails& thumbnails, Thumbnails& heat_thumbnails, int terms) {
  const AnnotationRow& first = *rows.front();
  std::vector<const AnnotationRow*> best = rows;
  std::stable_sort(best.begin(), best.end(), [](const AnnotationRow* a, const AnnotationRow* b) {
    return a->score > b->score;
  });
  if (static_cast<int>(best.size()) > terms) best.resize(terms);
  std::ostringstream html;
  html << "<div class=\"card\" data-image=\"" << html_escape(first.image) << "\">";
  const std::string thumb = thumbnails.data_uri(first.path);
  if (!thumb.empty())
    html << "<img class=\"thumb\" alt=\"" << html_escape(first.image) << "\" src=\"" << thumb
         << "\">";
  html << "<div class=\"id\"><b>" << html_escape(first.gene) << "</b> · "
       << html_escape(first.image) << " · stage " << html_escape(first.stage_range)
       << "</div>\n<table>";
  for (const AnnotationRow* r : best) {
    const bool yes = r->call == "yes";
    const bool has_p = std::isfinite(r->probability);
    const double shown = has_p ? r->probability : r->score;
    html << "<tr" << (r->validated ? "" : " class=\"unvalidated\"") << "><td>" << (yes ? "<b>" : "")
         << html_escape(r->term) << (yes ? "</b>" : "")
         << (r->validated ? ""
                          : " <span class=\"mark\" title=\"no cross-validated AUC at or above the "
                            "minimum: treat as a guess\">not validated</span>")
         << "</td><td class=\"num\" title=\"score " << fixed3(r->score) << ", term CV AUC "
         << (std::isfinite(r->term_auc) ? fixed3(r->term_auc) : std::string("none")) << "\">"
         << (has_p ? "p " : "s ") << fixed3(shown) << "</td><td class=\"call\">"
         << html_escape(r->call) << "</td><td><div class=\"bar\" title=\"" << r->votes << " of "
         << r->members
         << " members vote positive\"><span style=\"width:" << std::clamp(shown, 0.0, 1.0) * 100
         << "%\"></span></div></td></tr>";
  }
  html << "</table>";
  std::ostringstream heat;
  for (const AnnotationRow* r : best) {
    const auto at = maps.find({r->image, r->term});
    if (at == maps.end()) continue;
    const std::string uri = heat_thumbnails.data_uri(at->second->file);
    if (uri.empty()) continue;
    heat << "<figure><img alt=\"heat map of " << html_escape(r->term) << "\" src=\"" << uri
         << "\"><figcaption>" << html_escape(r->term) << "</figcaption></figure>";
  }
  if (!heat.str().empty()) html << "<div class=\"heatmaps\">" << heat.str() << "</div>";
  html << "</div>\n";
  return html.str();
}

}  // namespace

std::string gallery_html(const AnnotationRun& run, Thumbnails& thumbnails, int images, int terms,
                         std::vector<std::string>& notes) {
  // Rows grouped per image, images in stage order, then gene, then id.
  std::map<std::string, std::vector<const AnnotationRow*>> by_image;
  for (const auto& row : run.annotations) by_image[row.image].push_back(&row);
  std::vector<std::vector<const AnnotationRow*>> ordered;
  for (auto& [id, rows] : by_image) ordered.push_back(rows);
  std::sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) {
    const AnnotationRow &x = *a.front(), &y = *b.front();
    const int ox = stage_order(x.stage_range), oy = stage_order(y.stage_range);
    if (ox != oy) return ox < oy;
    return x.gene != y.gene ? x.gene < y.gene : x.image < y.image;
  });
  std::map<std::pair<std::string, std::string>, const HeatmapRow*> maps;
  for (const auto& h : run.heatmaps) maps[{h.image, h.term}] = &h;
  if (static_cast<int>(ordered.size()) > images) {
    notes.push_back(run.dir + ": the gallery shows " + std::to_string(images) + " of " +
                    std::to_string(ordered.size()) + " images (--gallery-images)");
    ordered.resize(images);
  }
  Thumbnails heat_thumbnails(236, 236);
  const int failed_before = thumbnails.failures();
  std::ostringstream html;
  html << "<p class=\"caption\">Each image with its " << terms
       << " best-scored terms: p = the calibrated probability (s = the raw ensemble score where "
          "the model has no calibration), the call (yes / no / uncertain; bold = yes) and a bar; "
          "terms marked <span class=\"mark\">not validated</span> had no cross-validated AUC "
          "at or above the minimum when the model was trained: their calls are 'uncertain' "
          "whatever the score"
       << (run.heatmaps.empty() ? "."
                                : " and the heat maps of those terms (evidence overlaid on "
                                  "the image).")
       << "</p>\n<div class=\"gallery\">\n";
  for (const auto& rows : ordered)
    html << card_html(rows, maps, thumbnails, heat_thumbnails, terms);
  html << "</div>\n";
  if (const int missing = thumbnails.failures() - failed_before; missing > 0)
    notes.push_back(run.dir + ": " + std::to_string(missing) +
                    " gallery images could not be read (no thumbnail); annotations.tsv's path "
                    "column names them");
  if (heat_thumbnails.failures() > 0)
    notes.push_back(run.dir + ": " + std::to_string(heat_thumbnails.failures()) +
                    " heat maps listed in heatmaps/index.tsv could not be read");
  if (run.heatmaps.empty())
    notes.push_back(run.dir +
                    ": no heat maps (heatmaps/index.tsv absent or empty: the features "
                    "have no spatial map)");
  return html.str();
}

std::string groups_table_html(const AnnotationRun& run, int max_rows,
                              std::vector<std::string>& notes) {
  if (run.groups.empty()) {
    notes.push_back(run.dir + ": no group-level annotation (groups.tsv absent or empty)");
    return "";
  }
  std::vector<const GroupRow*> rows;
  for (const auto& g : run.groups) rows.push_back(&g);
  std::stable_sort(rows.begin(), rows.end(), [](const GroupRow* a, const GroupRow* b) {
    if (a->gene != b->gene) return a->gene < b->gene;
    const int oa = stage_order(a->stage_range), ob = stage_order(b->stage_range);
    if (oa != ob) return oa < ob;
    return a->score > b->score;
  });
  if (static_cast<int>(rows.size()) > max_rows) {
    notes.push_back(run.dir + ": the group table shows " + std::to_string(max_rows) + " of " +
                    std::to_string(rows.size()) + " rows (all are in groups.tsv)");
    rows.resize(max_rows);
  }
  std::ostringstream html;
  html << "<details open><summary>groups.tsv (" << run.groups.size()
       << " rows)</summary>\n<table class=\"groups\"><tr><th>gene</th><th>stage range</th>"
          "<th>term</th><th>score</th><th>probability</th><th>call</th><th>predicted</th>"
          "<th>images</th><th>rule</th></tr>\n";
  for (const GroupRow* g : rows)
    html << "<tr><td>" << html_escape(g->gene) << "</td><td>" << html_escape(g->stage_range)
         << "</td><td>" << html_escape(g->term)
         << (g->validated ? "" : " <span class=\"mark\">not validated</span>")
         << "</td><td class=\"num\">" << fixed3(g->score) << "</td><td class=\"num\">"
         << (std::isfinite(g->probability) ? fixed3(g->probability) : std::string()) << "</td><td>"
         << html_escape(g->call) << "</td><td class=\"num\">" << g->predicted
         << "</td><td class=\"num\">" << g->images << "</td><td>" << html_escape(g->rule)
         << "</td></tr>\n";
  html << "</table></details>\n";
  return html.str();
}

}  // namespace ishannot::detail

namespace ishannot::detail {

std::string group_evidence_html(const AnnotationRun& run, Thumbnails& thumbnails, int max_calls,
                                std::vector<std::string>& notes) {
  // (stage, gene, term) of every positive call, with its images in rank order.
  using Key = std::tuple<std::string, std::string, std::string>;
  std::map<Key, std::vector<const GroupEvidenceRow*>> calls;
  for (const auto& e : run.evidence)
    if (e.group_predicted) calls[{e.stage_range, e.gene, e.term}].push_back(&e);
  if (calls.empty()) return "";
  std::vector<const std::vector<const GroupEvidenceRow*>*> ordered;
  for (auto& [key, rows] : calls) {
    std::stable_sort(rows.begin(), rows.end(),
                     [](const auto* a, const auto* b) { return a->rank < b->rank; });
    ordered.push_back(&rows);
  }
  std::stable_sort(ordered.begin(), ordered.end(), [](const auto* a, const auto* b) {
    return a->front()->group_score > b->front()->group_score;
  });
  if (static_cast<int>(ordered.size()) > max_calls) {
    notes.push_back(run.dir + ": the group evidence shows " + std::to_string(max_calls) + " of " +
                    std::to_string(ordered.size()) +
                    " group calls (--gallery-images; all are in group_evidence.tsv)");
    ordered.resize(static_cast<size_t>(max_calls));
  }
  std::ostringstream html;
  html << "<h3>Group calls and their images</h3>\n<p class=\"caption\">Each group the bag model "
          "labels with a term (highest scores first), its images ordered by their share of the "
          "group's linear score (share = the image's contribution / the sum of the "
          "contributions' magnitudes; negative: the image speaks against the term).</p>\n"
          "<div class=\"gallery\">\n";
  for (const auto* rows : ordered) {
    const GroupEvidenceRow& first = *rows->front();
    html << "<div class=\"card\" data-gene=\"" << html_escape(first.gene)
         << "\"><div class=\"id\"><b>" << html_escape(first.gene) << "</b> · stage "
         << html_escape(first.stage_range) << " · " << html_escape(first.term) << " · score "
         << fixed3(first.group_score) << "</div>\n<div class=\"heatmaps\">";
    for (const auto* e : *rows) {
      html << "<figure>";
      const std::string uri = thumbnails.data_uri(e->path);
      if (!uri.empty())
        html << "<img alt=\"" << html_escape(e->image) << "\" src=\"" << uri << "\">";
      html << "<figcaption>" << e->rank << ". " << html_escape(e->image) << " · share "
           << fixed3(e->share) << "</figcaption></figure>";
    }
    html << "</div></div>\n";
  }
  html << "</div>\n";
  return html.str();
}

}  // namespace ishannot::detail
