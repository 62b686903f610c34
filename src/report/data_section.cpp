// The report's "Data" section (detail/report_steps.h data_section): what each run was computed
// on, synthetic or real, with its genes and images — said on the page, not left to run.json.
#include <filesystem>
#include <set>
#include <sstream>

#include "report/report_html.h"
#include "report/report_steps.h"

namespace ishannot::detail {

namespace {

namespace fs = std::filesystem;

// "synthetic (...)", "real images" or "unknown" for a dataset path (a manifest, a BDGP-table
// folder or a folder of images). ishannot synth writes synth.json beside its images.csv.
std::string data_kind(const std::string& path) {
  if (path.empty()) return "unknown (the run does not record its data)";
  std::error_code ec;
  const fs::path p(path);
  const fs::path folder = fs::is_directory(p, ec) ? p : p.parent_path();
  if (fs::exists(folder / "synth.json", ec))
    return "synthetic images (made by ishannot synth: " + (folder / "synth.json").string() + ")";
  if (!fs::exists(p, ec)) return "unknown (" + path + " is not here to look at)";
  return "real images (not made by ishannot synth)";
}

std::string provenance_value(const nlohmann::json& run, const char* key) {
  if (!run.contains("provenance") || !run["provenance"].is_object()) return "";
  const auto& p = run["provenance"];
  return p.contains(key) && p[key].is_string() ? p[key].get<std::string>() : "";
}

std::string item(const std::string& dir, const std::string& kind, const std::string& data,
                 size_t genes, size_t images, const std::string& what) {
  std::ostringstream html;
  html << "<li><b>" << html_escape(dir) << "</b> (" << kind << "): <span class=\"datakind\">"
       << html_escape(data_kind(data)) << "</span>" << (data.empty() ? "" : ", ")
       << html_escape(data) << " — " << genes << " genes, " << images << " images " << what
       << "</li>\n";
  return html.str();
}

}  // namespace

PageSection data_section(const ReportRuns& runs) {
  std::ostringstream html;
  html << "<p class=\"caption\">What each run was computed on. Synthetic data measure the "
          "pipeline, not biology; with few genes every number rests on few independent "
          "samples (a gene is the unit of every train/test split).</p>\n<ul>\n";
  for (const auto& r : runs.evaluations) {
    std::set<std::string> genes, images;
    for (const auto& p : r.predictions) {
      genes.insert(p.prediction.gene);
      images.insert(p.prediction.id);
    }
    html << item(r.dir, "evaluate", provenance_value(r.run, "dataset"), genes.size(), images.size(),
                 "with out-of-fold predictions");
  }
  for (const auto& r : runs.annotations) {
    std::set<std::string> genes, images;
    for (const auto& a : r.annotations) {
      if (!a.gene.empty()) genes.insert(a.gene);
      images.insert(a.image);
    }
    html << item(r.dir, "annotate", provenance_value(r.run, "data"), genes.size(), images.size(),
                 "annotated");
  }
  html << "</ul>\n";
  return {"data", "Data", html.str()};
}

}  // namespace ishannot::detail
