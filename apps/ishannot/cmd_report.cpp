// `ishannot report --runs DIR [DIR...] --out REPORT_DIR`: the paper's table and figures, and a
// gallery of annotations, as one self-contained HTML page plus standalone SVGs (report/report.h).
#include <iostream>

#include "commands.h"
#include "ishannot/ontology/term_columns.h"
#include "ishannot/report/report.h"
#include "ontology_cli.h"
#include "options.h"

namespace ishannot::cli {

namespace {

struct ReportOptions {
  std::vector<std::string> runs;
  std::string out;
  std::string data;
  std::vector<std::string> layers;   // METHOD=LAYER
  std::vector<std::string> compare;  // two of METHOD[@LAYER]
  std::string ontology;
  ReportParams params;
};

void add_report_options(CLI::App* cmd, ReportOptions& o) {
  cmd->add_option("--runs", o.runs, "output folders of evaluate and/or annotate")
      ->required()
      ->expected(1, -1);
  add_out_option(cmd, o.out, "report folder (index.html, figures/*.svg, report.json)");
  add_data_option(cmd, o.data, false,
                  "the images of the thumbnails (default: the dataset each run.json names)");
  cmd->add_option("--layer", o.layers,
                  "METHOD=LAYER: show this layer of a method in Table 2 and Figures 5-7 "
                  "(repeatable; default: per stage range the layer with the best mean AUC)");
  cmd->add_option("--compare", o.compare,
                  "Figure 7's two sides, METHOD or METHOD@LAYER, comma-separated (default: the "
                  "best and the worst method)")
      ->delimiter(',');
  cmd->add_option("--agreement-images", o.params.agreement_images,
                  "images per Figure 7 (those with the most terms)")
      ->capture_default_str();
  cmd->add_option("--gallery-images", o.params.gallery_images,
                  "images per annotate run in the gallery")
      ->capture_default_str();
  cmd->add_option("--gallery-terms", o.params.gallery_terms, "top terms per gallery image")
      ->capture_default_str();
  cmd->add_option("--title", o.params.title, "page title")->capture_default_str();
  add_ontology_option(cmd, o.ontology);
}

ReportParams report_params(const ReportOptions& o, const GlobalOptions& options) {
  ReportParams params = o.params;
  params.data = o.data;
  params.compare = o.compare;
  for (const auto& pair : o.layers) {
    const size_t eq = pair.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == pair.size())
      throw UsageError("report: --layer '" + pair + "': expected METHOD=LAYER");
    params.comparison.layers[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  params.provenance = provenance(options);
  require_valid("report", params.check());
  return params;
}

void run_report(const ReportOptions& o, const GlobalOptions& options) {
  const ReportParams params = report_params(o, options);
  const Reporter reporter = make_reporter(options);
  auto ontology = read_ontology_option(o.ontology);
  const ReportResult result = write_report(o.runs, o.out, params, reporter);
  if (ontology) {  // OUT/terms.tsv: how every term of the runs resolves
    std::vector<std::string> files;
    for (const auto& run : o.runs) {
      const auto more = folder_tsv_files(run);
      files.insert(files.end(), more.begin(), more.end());
    }
    resolve_ontology_terms(*ontology, distinct_terms(files), reporter);
    write_term_resolutions(o.out + "/terms.tsv", ontology->ontology, ontology->resolutions);
  }
  if (!options.quiet) {
    for (const auto& note : result.notes) std::cerr << "note: " << note << "\n";
    for (const auto& warning : result.warnings) std::cerr << "vega warning: " << warning << "\n";
    std::cerr << "wrote " << result.figures.size() << " figures (" << o.out
              << "/figures/*.svg) and " << result.notes.size() << " notes\n";
  }
  std::cout << result.index << "\n";
}

}  // namespace

void add_report_command(CLI::App& app, GlobalOptions& options) {
  auto opt = std::make_shared<ReportOptions>();
  auto* cmd = app.add_subcommand(
      "report",
      "an HTML report (opens offline) and standalone SVG figures from evaluate/annotate outputs");
  add_report_options(cmd, *opt);
  cmd->callback([opt, &options] { run_report(*opt, options); });
}

}  // namespace ishannot::cli
