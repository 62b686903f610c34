// `ishannot inspect MODEL.h5`: the model card of a bundle — provenance, data, recipe, classifier,
// calibration and the per-term trust table — without h5py.
#include <iostream>

#include "commands.h"
#include "ishannot/annotate/model_bundle.h"
#include "ishannot/annotate/model_card.h"
#include "options.h"

namespace ishannot::cli {

namespace {

struct InspectOptions {
  std::string model;
  CallBand band;
};

void run_inspect(const InspectOptions& o) {
  require_valid("inspect", o.band.check());
  std::cout << model_card(read_model_bundle(o.model), o.band);
}

}  // namespace

void add_inspect_command(CLI::App& app, GlobalOptions& /*options*/) {
  auto opt = std::make_shared<InspectOptions>();
  auto* cmd = app.add_subcommand(
      "inspect", "print a model bundle's card: provenance, recipe and how far to trust each term");
  cmd->add_option("model", opt->model, "model bundle written by ishannot train")->required();
  cmd->add_option("--min-auc", opt->band.min_auc,
                  "a term is validated when its cross-validated AUC is at least this on >= 2 "
                  "folds (as annotate --min-auc)")
      ->capture_default_str();
  cmd->callback([opt] { run_inspect(*opt); });
}

}  // namespace ishannot::cli
