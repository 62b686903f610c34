// `ishannot synth --out DIR [--like BDGP_META] [--images N] [--seed S]`: a synthetic BDGP-like
// ISH dataset (images + manifest), or with --contact-sheet a PNG of every built-in term model.
#include <iostream>

#include "commands.h"
#include "ishannot/common/error.h"
#include "ishannot/data/synth.h"
#include "options.h"

namespace ishannot::cli {

namespace {
struct SynthOptions {
  std::string out;
  std::string contact_sheet;
  bool describe = false;
  SynthParams params;
};
}  // namespace

void add_synth_command(CLI::App& app, GlobalOptions& options) {
  auto opt = std::make_shared<SynthOptions>();
  auto* cmd = app.add_subcommand("synth", "generate a synthetic BDGP-like ISH dataset");
  cmd->add_option("--out", opt->out, "output folder (images/, images.csv, synth.json)");
  cmd->add_option("--like", opt->params.like,
                  "BDGP-table folder (e.g. ../shared/data/bdgp-meta): sample real groups");
  cmd->add_option("--images", opt->params.images, "total images over the stage ranges")
      ->capture_default_str();
  add_stages_option(cmd, opt->params.stages, "the ones to generate")->capture_default_str();
  cmd->add_option("--missing", opt->params.missing_pattern,
                  "chance a term's pattern is absent from one image")
      ->capture_default_str();
  cmd->add_option("--clutter", opt->params.clutter,
                  "chance a group also shows expression outside its terms")
      ->capture_default_str();
  cmd->add_flag("--masks", opt->params.masks,
                "also write where each term was painted: masks/<id>.<k>.png and masks.csv");
  cmd->add_option("--contact-sheet", opt->contact_sheet,
                  "write a PNG with one canonical image per built-in term and stage");
  cmd->add_flag("--describe", opt->describe,
                "print the spatial model of every built-in term (markdown table)");
  cmd->callback([opt, &options] {
    const Reporter reporter = make_reporter(options);
    opt->params.seed = options.seed;
    opt->params.threads = apply_threads(options);
    opt->params.stages = normalised_stages(opt->params.stages);
    if (opt->out.empty() && opt->contact_sheet.empty() && !opt->describe)
      throw CLI::RequiredError("--out");
    if (opt->describe) {
      std::cout << "| stage | term | share of images | spatial model |\n|---|---|---|---|\n";
      for (const auto& v : default_vocabulary())
        std::cout << "| " << v.stage_range << " | " << v.term << " | " << v.frequency << " | "
                  << synthetic_term_model(v.term, v.stage_range) << " |\n";
    }
    if (!opt->contact_sheet.empty()) {
      write_contact_sheet(opt->contact_sheet, options.seed);
      reporter.info("wrote " + opt->contact_sheet);
    }
    if (!opt->out.empty()) {
      const std::string manifest = generate_synthetic(opt->params, opt->out, reporter);
      std::cout << manifest << "\n";
    }
  });
}

}  // namespace ishannot::cli
