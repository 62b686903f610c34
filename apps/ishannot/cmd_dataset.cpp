// `ishannot dataset --data D`: Table-1 style summary of a dataset (manifest CSV, BDGP-table folder,
// or image folder) as a readable table on stdout and, with --tsv, a TSV file.
#include <iostream>

#include "commands.h"
#include "ishannot/bdgp.h"
#include "ishannot/dataset.h"
#include "ishannot/error.h"
#include "ishannot/fs_util.h"
#include "ishannot/summary.h"
#include "ishannot/terms.h"

namespace ishannot::cli {

namespace {
struct DatasetOptions {
  std::string data;
  std::string images;  // image folder for BDGP tables
  std::string view = "lateral";
  int top_k = 10;
  bool exclude_non_spatial = false;
  std::vector<std::string> exclude;
  std::vector<std::string> stages;
  std::string tsv;
  bool check_images = false;
};
}  // namespace

void add_dataset_command(CLI::App& app, GlobalOptions& options) {
  auto opt = std::make_shared<DatasetOptions>();
  auto* cmd = app.add_subcommand(
      "dataset", "Table-1 style summary: images, groups, genes and top terms per stage range");
  cmd->add_option("--data", opt->data,
                  "manifest CSV, BDGP-table folder (standard_*.csv) or image folder")
      ->required();
  cmd->add_option("--images", opt->images,
                  "image folder to join with BDGP tables (default: DATA/images if present)");
  cmd->add_option("--view", opt->view, "lateral | dorsal | ventral | all")
      ->check(CLI::IsMember({"lateral", "dorsal", "ventral", "all"}))
      ->capture_default_str();
  cmd->add_option("--top-k", opt->top_k, "terms per stage range")->capture_default_str();
  cmd->add_flag("--exclude-non-spatial", opt->exclude_non_spatial,
                "exclude ubiquitous, faint ubiquitous, maternal, subset, no staining");
  cmd->add_option("--exclude", opt->exclude, "a term never selected (repeatable)");
  cmd->add_option("--stages", opt->stages, "stage ranges to show (default: all present)")
      ->delimiter(',');
  cmd->add_option("--tsv", opt->tsv, "also write the summary as TSV to this file ('-' = stdout)");
  cmd->add_flag("--check-images", opt->check_images,
                "decode every image and report unreadable ones (slow on big sets)");
  cmd->callback([opt, &options] {
    const Reporter reporter = make_reporter(options);
    Dataset ds = opt->images.empty() ? read_dataset(opt->data)
                                     : read_bdgp_tables(opt->data, BdgpReadParams{opt->images});
    if (opt->check_images) ds = drop_unreadable_images(ds, reporter);
    TermSelectionParams params;
    params.top_k = opt->top_k;
    params.view = opt->view == "all" ? "" : opt->view;
    params.exclude = opt->exclude;
    if (opt->exclude_non_spatial)
      for (const auto& t : non_spatial_terms()) params.exclude.push_back(t);
    if (auto problem = params.check(); !problem.empty()) throw Error(problem);
    const auto rows = summarise_dataset(ds, params, opt->stages);
    for (const auto& stage : opt->stages) {
      if (stage.empty()) continue;
      const std::string name = normalise_stage_range(stage);
      bool found = false;
      for (const auto& r : rows) found = found || r.stage_range == name;
      if (!found)
        reporter.info("stage range " + name + ": no image" +
                      (params.view.empty() ? std::string() : " with view " + params.view));
    }
    if (rows.empty()) throw Error(opt->data + ": no image to summarise");
    if (opt->tsv == "-") {
      std::cout << summary_tsv(rows);
      return;
    }
    std::cout << summary_text(rows, ds, params);
    if (!opt->tsv.empty()) {
      write_text_atomically(opt->tsv, summary_tsv(rows));
      reporter.info("wrote " + opt->tsv);
    }
  });
}

}  // namespace ishannot::cli
