// `ishannot report` (report/report.h): read the runs, build the figures, render them with
// Vega-Lite through Node, write the page and its provenance.
#include "ishannot/report/report.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <filesystem>
#include <set>

#include "ishannot/common/error.h"
#include "ishannot/common/format.h"
#include "ishannot/common/format_versions.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/common/output_columns.h"
#include "ishannot/report/vega_render.h"
#include "report/report_html.h"
#include "report/report_steps.h"
#include "report_assets.h"

namespace ishannot {
namespace fs = std::filesystem;

namespace {

using detail::html_escape;

// The figures that belong to a page section, by id prefix.
std::string figures_html(const std::vector<Figure>& figures, const std::string& prefix,
                         const std::map<std::string, std::string>& svgs) {
  std::string html;
  for (const auto& f : figures)
    if (f.id.rfind(prefix, 0) == 0) html += detail::figure_html(f, svgs.at(f.id));
  return html;
}

std::vector<detail::PageSection> evaluation_sections(
    const std::vector<Figure>& figures, const Comparison& c,
    const std::map<std::string, std::string>& svgs) {
  std::vector<detail::PageSection> sections;
  sections.push_back(
      {"table2", "Table 2",
       "<p class=\"caption\">Mean ± std over terms of the per-term means over the outer folds, "
       "each method at its shown layer (first rows): the layer with the best mean AUC on the "
       "test folds themselves (best-on-test, as the paper reports its best layer — an optimistic "
       "choice; `--layer METHOD=LAYER` fixes it in advance instead). <b>paper</b>: the values "
       "published by "
       "Zhang et al. (KDD 2015, Table 2), not computed here.</p>\n" +
           detail::table2_html(c) + figures_html(figures, "table2", svgs)});
  const std::pair<const char*, const char*> parts[] = {{"figure3-4", "Figures 3/4: layers"},
                                                       {"figure5", "Figure 5: methods"},
                                                       {"figure6", "Figure 6: terms"},
                                                       {"figure7", "Figure 7: agreement"},
                                                       {"roc-", "ROC curves"}};
  for (const auto& [prefix, title] : parts) {
    const std::string html = figures_html(figures, prefix, svgs);
    if (!html.empty())
      sections.push_back({std::string(prefix) == "roc-" ? "roc" : prefix, title, html});
  }
  return sections;
}

std::vector<detail::PageSection> annotation_sections(const std::vector<AnnotationRun>& runs,
                                                     const std::vector<Figure>& figures,
                                                     const std::map<std::string, std::string>& svgs,
                                                     const ReportParams& params,
                                                     std::vector<std::string>& notes) {
  std::vector<detail::PageSection> sections;
  Thumbnails thumbnails(320, 160);
  for (size_t i = 0; i < runs.size(); ++i) {
    const std::string id = "annotations-" + std::to_string(i + 1);
    std::string html = detail::gallery_html(runs[i], thumbnails, params.gallery_images,
                                            params.gallery_terms, notes);
    html += figures_html(figures, "groups-" + std::to_string(i + 1), svgs);
    html += figures_html(figures, "reliability-" + std::to_string(i + 1), svgs);
    html += detail::groups_table_html(runs[i], params.max_group_rows, notes);
    html += detail::group_evidence_html(runs[i], thumbnails, params.gallery_images, notes);
    sections.push_back({id, "Annotations: " + runs[i].dir, html});
  }
  return sections;
}

detail::PageSection runs_section(const detail::ReportRuns& runs) {
  std::string html;
  auto add = [&](const std::string& dir, const std::string& kind, const nlohmann::json& run,
                 const TextTable& skipped) {
    html += "<details><summary>" + html_escape(dir) + " (" + kind +
            ")</summary>\n<h3>run.json</h3>\n" + detail::provenance_table_html(run) +
            "<h3>skipped</h3>\n" + detail::skipped_html(skipped) + "</details>\n";
  };
  for (const auto& r : runs.evaluations) add(r.dir, "evaluate", r.run, r.skipped);
  for (const auto& r : runs.annotations) add(r.dir, "annotate", r.run, r.skipped);
  return {"runs", "Runs: provenance and skips",
          "<p class=\"caption\">Each run's run.json (command, dataset, features, versions, "
          "configuration, timings) and what it skipped and why.</p>\n" +
              html};
}

std::string read_text_file_if_present(const std::string& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec) ? read_text_file(path) : std::string();
}

// Specs to OUT/figures/ID.vl.json, SVGs rendered next to them; stale figure files removed.
std::map<std::string, std::string> render_figures(const std::vector<Figure>& figures,
                                                  const std::string& dir,
                                                  const VegaRuntime& runtime,
                                                  ReportResult& result) {
  fs::create_directories(dir);
  std::vector<RenderJob> jobs;
  std::set<std::string> written;
  for (const auto& f : figures) {
    const std::string base = fs::absolute(dir + "/" + f.id).string();
    write_text_atomically(base + ".vl.json", f.spec.dump(1) + "\n");
    jobs.push_back({f.id, base + ".vl.json", base + ".svg"});
    written.insert(f.id + ".vl.json");
    written.insert(f.id + ".svg");
    result.figures.push_back(dir + "/" + f.id + ".svg");
  }
  // Stale figures: only those an earlier report here listed in its report.json (ids of our own
  // letters), never a file of the user's that merely ends in .svg.
  nlohmann::json earlier = nlohmann::json::parse(
      read_text_file_if_present((fs::path(dir).parent_path() / "report.json").string()), nullptr,
      false);
  if (earlier.is_object() && earlier.contains("figures") && earlier["figures"].is_array())
    for (const auto& id : earlier["figures"]) {
      if (!id.is_string()) continue;
      const std::string name = id.get<std::string>();
      const bool plain = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return std::islower(static_cast<unsigned char>(c)) ||
               std::isdigit(static_cast<unsigned char>(c)) || c == '-';
      });
      if (!plain) continue;
      for (const char* ext : {".svg", ".vl.json"})
        if (!written.count(name + ext)) fs::remove(dir + "/" + name + ext);
    }
  result.warnings = render_svgs(runtime, jobs);
  std::map<std::string, std::string> svgs;
  for (const auto& job : jobs) svgs[job.id] = read_text_file(job.svg_path);
  return svgs;
}

std::string meta_line(const ReportParams& params, const detail::ReportRuns& runs,
                      const VegaRuntime& runtime, const std::string& created) {
  std::string versions;
  for (const auto& [name, version] : runtime.versions) versions += " " + name + " " + version;
  const std::string& command = params.provenance.command_line;
  return html_escape(std::to_string(runs.read.size()) + " run folder(s) · written " + created +
                     " by ishannot " + params.provenance.version() +
                     (command.empty() ? "" : " (" + command + ")") +
                     " · figures by Vega-Lite:" + versions);
}

}  // namespace

ReportResult write_report(const std::vector<std::string>& run_dirs, const std::string& out_dir,
                          const ReportParams& params, const Reporter& reporter) {
  if (const std::string problem = params.check(); !problem.empty()) throw Error(problem);
  if (run_dirs.empty()) throw Error("no run folder given");
  const VegaRuntime runtime = find_vega_runtime(params.vega_dir);  // fail before any work
  ReportResult result;
  detail::ReportRuns runs = detail::read_report_runs(run_dirs, result.notes, reporter);
  Comparison comparison;
  std::vector<Figure> figures;
  Thumbnails thumbnails(64, 26);  // Figure 7 draws them 45 x 17
  if (!runs.evaluations.empty()) {
    comparison = compare_runs(runs.evaluations, params.comparison);
    result.notes.insert(result.notes.begin(), comparison.notes.begin(), comparison.notes.end());
    figures =
        detail::evaluation_figures(runs.evaluations, comparison, params, thumbnails, result.notes);
  }
  for (size_t i = 0; i < runs.annotations.size(); ++i) {
    if (auto f = groups_figure(runs.annotations[i], "groups-" + std::to_string(i + 1)))
      figures.push_back(*f);
    if (auto f = reliability_figure(runs.annotations[i], "reliability-" + std::to_string(i + 1)))
      figures.push_back(*f);
  }
  reporter.info("report: rendering " + std::to_string(figures.size()) + " figures with " +
                runtime.node);
  const auto svgs = render_figures(figures, out_dir + "/figures", runtime, result);

  const std::string created = utc_timestamp();
  detail::PageParts page;
  page.title = params.title;
  page.meta = meta_line(params, runs, runtime, created);
  page.sections.push_back(detail::data_section(runs));
  if (!runs.evaluations.empty())
    for (auto& s : evaluation_sections(figures, comparison, svgs))
      page.sections.push_back(std::move(s));
  for (auto& s : annotation_sections(runs.annotations, figures, svgs, params, result.notes))
    page.sections.push_back(std::move(s));
  page.sections.push_back(runs_section(runs));
  page.notes = result.notes;
  for (const char* name : {"vega", "vega-lite", "vega-embed"})
    page.scripts.push_back(read_text_file(runtime.bundle(name)));
  page.scripts.push_back(detail::assets::page_js);
  page.footer =
      "Self-contained: opens offline, makes no network request. Vega, Vega-Lite and "
      "Vega-Embed (BSD-3-Clause, © University of Washington Interactive Data Lab) are "
      "inlined for the interactive figures.";

  nlohmann::json provenance = {
      {"format", "ishannot-report"}, {"format_version", kReportFormatVersion},
      {"created_utc", created},      {"runs", runs.read},
      {"vega", runtime.versions},    {"notes", result.notes},
      {"warnings", result.warnings}};
  for (const auto& [key, value] : params.provenance.entries())
    provenance["provenance"][key] = value;
  for (const auto& f : figures) provenance["figures"].push_back(f.id);
  write_text_atomically(out_dir + "/report.json", provenance.dump(2) + "\n");
  result.index = out_dir + "/index.html";
  write_text_atomically(result.index, detail::page_html(page));
  write_columns_tsv(out_dir, OutputKind::kReport);
  return result;
}

}  // namespace ishannot
