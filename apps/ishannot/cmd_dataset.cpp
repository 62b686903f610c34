// `ishannot dataset --data D`: Table-1 style summary of a dataset (manifest CSV or BDGP-table
// folder) as a readable table on stdout and, with --tsv, a TSV file; for a plain image folder,
// its images per stage range and gene, and what annotate will need (image_folder.h). --ontology
// adds the shown terms' FBbt ids (a term_id column in the TSV, a table after the text).
#include <algorithm>
#include <iostream>

#include "commands.h"
#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/data/bdgp.h"
#include "ishannot/data/dataset.h"
#include "ishannot/data/image_folder.h"
#include "ishannot/data/summary.h"
#include "ishannot/data/terms.h"
#include "ishannot/ontology/term_columns.h"
#include "ontology_cli.h"
#include "options.h"

namespace ishannot::cli {

namespace {
struct DatasetOptions {
  std::string data;
  std::string images;  // image folder for BDGP tables
  TermOptions terms;
  std::vector<std::string> stages;
  std::string tsv;
  bool check_images = false;
  std::string write_clean;  // manifest without the unreadable images
  std::string ontology;
};

// --check-images: decode every image; one line per bad one (through the reporter) and a count;
// --write-clean OUT.csv: the manifest without them (paths relative to OUT.csv's folder).
Dataset check_images(const DatasetOptions& o, const Dataset& all, const Reporter& reporter) {
  Dataset ds = drop_unreadable_images(all, reporter);
  const size_t bad = all.images.size() - ds.images.size();
  reporter.info("checked " + std::to_string(all.images.size()) + " images: " + std::to_string(bad) +
                " unreadable");
  if (!o.write_clean.empty()) {
    refuse_inputs_as_output(o.write_clean, {{o.data, "the dataset"}});
    write_manifest(ds, o.write_clean);
    reporter.info("wrote " + o.write_clean + ": " + std::to_string(ds.images.size()) +
                  " images (without the " + std::to_string(bad) + " unreadable)");
  }
  return ds;
}
}  // namespace

void add_dataset_command(CLI::App& app, GlobalOptions& options) {
  auto opt = std::make_shared<DatasetOptions>();
  auto* cmd = app.add_subcommand(
      "dataset", "Table-1 style summary: images, groups, genes and top terms per stage range");
  add_data_option(cmd, opt->data);
  cmd->add_option("--images", opt->images,
                  "image folder to join with BDGP tables (default: DATA/images if present)");
  add_term_options(cmd, opt->terms);
  add_stages_option(cmd, opt->stages, "the ones to show (default: all present)");
  add_ontology_option(cmd, opt->ontology);
  cmd->add_option("--tsv", opt->tsv, "also write the summary as TSV to this file ('-' = stdout)");
  cmd->add_flag("--check-images", opt->check_images,
                "decode every image and report unreadable ones (slow on big sets)");
  cmd->add_option("--write-clean", opt->write_clean,
                  "with --check-images: write the manifest without the unreadable images to this "
                  "CSV");
  cmd->callback([opt, &options] {
    const Reporter reporter = make_reporter(options);
    const auto ontology = read_ontology_option(opt->ontology);  // a bad file fails first
    Dataset ds = opt->images.empty() ? read_dataset(opt->data)
                                     : read_bdgp_tables(opt->data, BdgpReadParams{opt->images});
    if (!opt->write_clean.empty() && !opt->check_images)
      throw UsageError("dataset: --write-clean needs --check-images");
    if (opt->check_images) ds = check_images(*opt, ds, reporter);
    if (opt->images.empty() && stage_origin_of(opt->data) == "folder") {
      // A plain folder carries no terms: say what annotate will find in it instead.
      std::cout << describe_images(ds, "folder");
      return;
    }
    const TermSelectionParams params = opt->terms.params();
    require_valid("dataset", params.check());
    const auto stages = normalised_stages(opt->stages);
    const auto rows = summarise_dataset(ds, params, stages);
    for (const auto& name : stages) {
      bool found = false;
      for (const auto& r : rows) found = found || r.stage_range == name;
      if (!found)
        reporter.info("stage range " + name + ": no image" +
                      (params.view.empty() ? std::string() : " with view " + params.view));
    }
    if (rows.empty()) throw Error(opt->data + ": no image to summarise");
    // --ontology: the shown terms' ids (a term_id column in the TSV, a table after the text).
    std::vector<std::string> shown;
    for (const auto& r : rows) shown.insert(shown.end(), r.top_terms.begin(), r.top_terms.end());
    std::sort(shown.begin(), shown.end());
    shown.erase(std::unique(shown.begin(), shown.end()), shown.end());
    if (ontology) resolve_ontology_terms(*ontology, shown, reporter);
    const std::string tsv =
        ontology ? add_term_column_text(summary_tsv(rows), ontology->ids) : summary_tsv(rows);
    if (opt->tsv == "-") {
      std::cout << tsv;
      return;
    }
    std::cout << summary_text(rows, ds, params);
    if (ontology) std::cout << term_table(*ontology);
    if (!opt->tsv.empty()) {
      write_text_atomically(opt->tsv, tsv);
      reporter.info("wrote " + opt->tsv);
    }
  });
}

}  // namespace ishannot::cli
