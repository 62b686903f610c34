// The report page's frame and its evaluate-side tables (detail/report_html.h).
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <sstream>

#include "ishannot/report/paper_values.h"
#include "report/report_html.h"
#include "report_assets.h"

namespace ishannot::detail {

namespace {

std::string fixed4(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.4f", v);
  return buf;
}

void flatten(const nlohmann::json& value, const std::string& prefix,
             std::vector<std::pair<std::string, std::string>>& out) {
  if (value.is_object() && !value.empty()) {
    for (const auto& item : value.items())
      flatten(item.value(), prefix.empty() ? item.key() : prefix + "." + item.key(), out);
    return;
  }
  if (value.is_array() && std::all_of(value.begin(), value.end(),
                                      [](const nlohmann::json& v) { return v.is_primitive(); })) {
    std::string joined;
    for (const auto& v : value)
      joined += (joined.empty() ? "" : ", ") + (v.is_string() ? v.get<std::string>() : v.dump());
    out.emplace_back(prefix, joined);
    return;
  }
  out.emplace_back(prefix, value.is_string() ? value.get<std::string>() : value.dump());
}

// A script's text safe inside <script>: "</script" (any case) would end the element early;
// "<\/" means the same in a JavaScript string, where it can occur.
std::string script_text(const std::string& script) {
  std::string out = script;
  for (size_t at = 0; (at = out.find("</", at)) != std::string::npos; at += 3) {
    std::string tag = out.substr(at + 2, 6);
    std::transform(tag.begin(), tag.end(), tag.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (tag == "script") out.replace(at, 2, "<\\/");
  }
  return out;
}

}  // namespace

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string script_json(const nlohmann::json& value) {
  const std::string text = value.dump();
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    // '<' only occurs inside JSON strings, where \u003c means the same character.
    if (c == '<')
      out += "\\u003c";
    else
      out += c;
  }
  return out;
}

std::string page_html(const PageParts& parts) {
  std::ostringstream html;
  html << "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
       // The offline guarantee, enforced by the browser: nothing may be fetched from anywhere.
       << "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src "
          "data:; style-src 'unsafe-inline'; script-src 'unsafe-inline' 'unsafe-eval'\">\n"
       << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
       << "<title>" << html_escape(parts.title) << "</title>\n<style>\n"
       << assets::page_css << "</style>\n</head>\n<body>\n<header>\n<h1>"
       << html_escape(parts.title) << "</h1>\n<div class=\"meta\">" << parts.meta
       << "</div>\n<nav>";
  if (!parts.notes.empty()) html << "<a href=\"#notes\">notes</a>";
  for (const auto& section : parts.sections)
    html << "<a href=\"#" << html_escape(section.id) << "\">" << html_escape(section.title)
         << "</a>";
  html << "</nav>\n</header>\n<main>\n";
  if (!parts.notes.empty()) {
    html << "<section id=\"notes\" class=\"notes\">\n<h2>Notes: what this report could not "
            "show or compare</h2>\n<ul>\n";
    for (const auto& note : parts.notes) html << "<li>" << html_escape(note) << "</li>\n";
    html << "</ul>\n</section>\n";
  }
  for (const auto& section : parts.sections)
    html << "<section id=\"" << html_escape(section.id) << "\">\n<h2>" << html_escape(section.title)
         << "</h2>\n"
         << section.html << "</section>\n";
  html << "</main>\n<footer>" << parts.footer << "</footer>\n";
  for (const auto& script : parts.scripts)
    html << "<script>" << script_text(script) << "</script>\n";
  html << "</body>\n</html>\n";
  return html.str();
}

std::string figure_html(const Figure& figure, const std::string& svg) {
  std::ostringstream html;
  html << "<figure id=\"figure-" << html_escape(figure.id) << "\" data-figure=\""
       << html_escape(figure.id) << "\">\n<div class=\"static\">" << svg
       << "</div>\n<div class=\"interactive\"></div>\n"
       << "<script type=\"application/json\" class=\"vega-spec\">" << script_json(figure.spec)
       << "</script>\n<figcaption>" << html_escape(figure.caption)
       << " <span class=\"small\">Standalone: figures/" << html_escape(figure.id)
       << ".svg (spec and data: figures/" << html_escape(figure.id) << ".vl.json).</span>"
       << "</figcaption>\n</figure>\n";
  return html.str();
}

std::string table2_html(const Comparison& c) {
  std::map<std::tuple<std::string, std::string, std::string>, double> paper;
  for (const auto& p : paper_table2()) paper[{p.metric, p.method, p.stage_range}] = p.mean;
  std::ostringstream html;
  html << "<div class=\"wide\"><table class=\"table2\">\n<tr><th rowspan=\"2\">measure</th>"
          "<th rowspan=\"2\">method</th>";
  for (const auto& stage : c.stage_ranges)
    html << "<th colspan=\"2\">" << html_escape(stage) << "</th>";
  html << "</tr>\n<tr>";
  for (size_t i = 0; i < c.stage_ranges.size(); ++i)
    html << "<th>ours</th><th class=\"paper\">paper</th>";
  html << "</tr>\n";
  for (const auto& method : c.methods) {  // the layer each cell of ours comes from
    html << "<tr class=\"small\"><td>layer shown (best-on-test)</td><td>" << html_escape(method)
         << "</td>";
    for (const auto& stage : c.stage_ranges)
      html << "<td colspan=\"2\">" << html_escape(c.layer_shown(method, stage)) << "</td>";
    html << "</tr>\n";
  }
  for (const std::string metric : {"auc", "accuracy", "sensitivity", "specificity"})
    for (const auto& method : c.methods) {
      html << "<tr><td>" << (metric == "auc" ? "AUC" : metric) << "</td><td>" << html_escape(method)
           << "</td>";
      for (const auto& stage : c.stage_ranges) {
        const std::string layer = c.layer_shown(method, stage);
        const SummaryRow* s = layer.empty() ? nullptr : c.find(method, layer, stage, metric);
        html << "<td class=\"num\">"
             << (s ? fixed4(s->over_terms.mean) + " ± " + fixed4(s->over_terms.std) : "–")
             << "</td>";
        const auto p = paper.find({metric, method, stage});
        html << "<td class=\"num paper\">" << (p == paper.end() ? "–" : fixed4(p->second))
             << "</td>";
      }
      html << "</tr>\n";
    }
  html << "</table></div>\n";
  return html.str();
}

std::string provenance_table_html(const nlohmann::json& run) {
  std::vector<std::pair<std::string, std::string>> rows;
  flatten(run, "", rows);
  std::ostringstream html;
  html << "<table class=\"provenance\">\n";
  for (const auto& [key, value] : rows)
    html << "<tr><th>" << html_escape(key) << "</th><td>" << html_escape(value) << "</td></tr>\n";
  html << "</table>\n";
  return html.str();
}

std::string skipped_html(const TextTable& skipped) {
  if (skipped.rows.empty()) return "<p class=\"small\">Nothing was skipped.</p>\n";
  int reason = -1;
  for (size_t i = 0; i < skipped.header.size(); ++i)
    if (skipped.header[i] == "reason") reason = static_cast<int>(i);
  std::ostringstream html;
  if (reason >= 0) {
    std::map<std::string, int> counts;
    for (const auto& row : skipped.rows) ++counts[row[reason]];
    html << "<table><tr><th>skipped because</th><th>rows</th></tr>\n";
    for (const auto& [text, count] : counts)
      html << "<tr><td>" << html_escape(text) << "</td><td class=\"num\">" << count
           << "</td></tr>\n";
    html << "</table>\n";
  }
  html << "<details><summary>skipped.tsv (" << skipped.rows.size()
       << " rows)</summary>\n<table><tr>";
  for (const auto& h : skipped.header) html << "<th>" << html_escape(h) << "</th>";
  html << "</tr>\n";
  for (const auto& row : skipped.rows) {
    html << "<tr>";
    for (const auto& cell : row) html << "<td>" << html_escape(cell) << "</td>";
    html << "</tr>\n";
  }
  html << "</table></details>\n";
  return html.str();
}

}  // namespace ishannot::detail
