// `ishannot annotate --model model.h5 --data IMAGES --out DIR`: a model bundle applied to new
// images (a folder, a manifest or BDGP tables): annotations.tsv, groups.tsv, heatmaps/,
// validation.tsv + reliability.tsv (data with terms), skipped.tsv, columns.tsv, run.json. Features
// are computed with the bundle's recipe, or read from --features.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "commands.h"
#include "ishannot/annotate/annotate.h"
#include "ishannot/annotate/model_bundle.h"
#include "ishannot/common/error.h"
#include "ishannot/common/format.h"
#include "ishannot/data/image_folder.h"
#include "ishannot/ontology/term_columns.h"
#include "ontology_cli.h"
#include "options.h"

namespace ishannot::cli {

namespace {

struct AnnotateOptions {
  std::string model, data, out, features, stage, gene, weights,
      group_rule = "mean", band = "0.2,0.8", ontology, precision = "fp32";
  bool propagate = false;
  std::vector<std::string> stages;
  bool no_registration_check = false;
  ResumeOptions resume;
  AnnotateParams params;
};

void add_annotate_options(CLI::App* cmd, AnnotateOptions& o) {
  cmd->add_option("--model", o.model, "model bundle written by ishannot train")->required();
  add_data_option(cmd, o.data, true,
                  "the images to annotate (a manifest's terms, if any, are compared with the "
                  "calls: validation.tsv)");
  add_out_option(cmd, o.out, "output folder");
  auto* features =
      cmd->add_option("--features", o.features,
                      "feature store made with the bundle's recipe (default: computed on the fly)");
  cmd->add_option("--stage", o.stage,
                  "assigns ONE stage range to the images whose data give none: a stage 1-17 (14 = "
                  "range 13-16), stages (13-16) or BDGP's range number range:N (a filter is "
                  "--stages)");
  cmd->add_option("--gene", o.gene, "gene of images whose data name none (a plain folder)");
  add_stages_option(cmd, o.stages,
                    "a filter: annotate only images of these (default: all; to give images "
                    "without one a stage range: --stage)");
  cmd->add_option("--weights", o.weights,
                  "the bundle's weight file at a new place (its SHA-256 is checked)");
  cmd->add_option("--heatmaps", o.params.heatmap_terms,
                  "heat maps per image: its top terms with predicted = 1 (0 = none)")
      ->capture_default_str();
  cmd->add_option("--sheet-images", o.params.sheet_images,
                  "images per contact sheet (the highest-scoring of each term)")
      ->capture_default_str();
  cmd->add_option("--group-rule", o.group_rule,
                  "how a gene x stage group's image scores combine: mean | max | votes")
      ->check(CLI::IsMember({"mean", "max", "votes"}))
      ->capture_default_str();
  cmd->add_option("--band", o.band,
                  "the no-call band LOW,HIGH: call yes above HIGH, no below LOW, uncertain "
                  "within")
      ->capture_default_str();
  cmd->add_option("--min-auc", o.params.band.min_auc,
                  "a term is validated (its calls trusted) when its cross-validated AUC is at "
                  "least this on >= 2 folds")
      ->capture_default_str();
  cmd->add_flag("--no-registration-check", o.no_registration_check,
                "do not check that the images look registered like BDGP's (registration.tsv)");
  add_batch_option(cmd, o.params.batch, "images per batch");
  // The network's arithmetic matters only when annotate runs the network.
  add_precision_option(cmd, o.precision)->excludes(features);
  add_resume_options(cmd, o.resume, "OUT (annotate.progress and the *.partial files)");
  add_ontology_option(cmd, o.ontology);
  cmd->add_flag("--propagate", o.propagate,
                "with --ontology: add the ancestors (is_a, part_of) each positive call implies, "
                "with the best descendant's score (column propagated = 1)");
}

// The terms of every stage range of the bundle.
std::vector<std::string> bundle_terms(const ModelBundle& bundle) {
  std::vector<std::string> terms;
  for (const auto& stage : bundle.stages)
    for (const auto& t : stage.terms)
      if (std::find(terms.begin(), terms.end(), t.term) == terms.end()) terms.push_back(t.term);
  return terms;
}

// term_id in the finished outputs: from --ontology (terms.tsv, and the implied ancestors with
// --propagate), else from a bundle trained with --ontology (its term_ids attribute: no OBO file).
void add_term_ids(const AnnotateOptions& o, const ModelBundle& bundle,
                  const OntologyTerms* ontology, const Reporter& reporter) {
  if (!ontology && bundle.attributes.count("term_ids")) {
    std::map<std::string, std::string> ids;
    const auto json = nlohmann::json::parse(bundle.attributes.at("term_ids"));
    for (auto it = json.begin(); it != json.end(); ++it)
      ids[it.key()] = it.value().get<std::string>();
    add_term_columns(folder_tsv_files(o.out), ids, nullptr, {});
    const auto version = bundle.attributes.find("ontology");
    reporter.info("annotate: term_id from the bundle (" +
                  (version == bundle.attributes.end() ? std::string("?") : version->second) + ")");
  }
  if (ontology) {
    const auto added = add_ontology_to_folder(
        *ontology, o.out,
        o.propagate ? std::vector<std::string>{"/annotations.tsv", "/groups.tsv"}
                    : std::vector<std::string>{});
    reporter.info("annotate: term_id added from " + ontology->version() + " (" + o.out +
                  "/terms.tsv)" +
                  (o.propagate ? ", " + std::to_string(added) + " implied rows (propagated)" : ""));
  }
}

// The images: with --features and a manifest, the files need not exist (only ids matter).
// Stage ranges and genes the data lack come from --stage and --gene; what came from where is
// printed. --stages then keeps the images of those stage ranges (and those without one).
Dataset annotate_dataset(const AnnotateOptions& o, const GlobalOptions& options,
                         const Reporter& reporter) {
  const bool manifest = std::filesystem::is_regular_file(o.data);
  Dataset ds =
      manifest && !o.features.empty() ? read_manifest(o.data, false) : read_dataset(o.data);
  const std::string origin = stage_origin_of(o.data);
  const StageAssignment assigned = parse_usage([&] {
    return assign_stages(ds, origin, {o.stage, o.gene});
  });
  for (const auto& w : assigned.warnings) std::cerr << "ishannot: warning: " << w << "\n";
  if (!options.quiet)
    std::cerr << "stage ranges of the " << ds.images.size() << " images of " << o.data << ":\n"
              << stage_assignment_text(assigned);
  const auto stages = normalised_stages(o.stages);
  if (stages.empty()) return ds;
  const auto all = ds.images.size();
  ds.images.erase(std::remove_if(ds.images.begin(), ds.images.end(),
                                 [&](const ImageRecord& image) {
                                   return !image.stage_range.empty() &&
                                          std::find(stages.begin(), stages.end(),
                                                    image.stage_range) == stages.end();
                                 }),
                  ds.images.end());
  reporter.info("annotate: " + std::to_string(all - ds.images.size()) +
                " images of other stage ranges left out (--stages)");
  return ds;
}

// Without --features: a bundle trained on a store that does not say how it was made (written by
// another tool) cannot have its features computed here: --features is the fix, not --weights.
void require_recipe(const AnnotateOptions& o, const ModelBundle& bundle) {
  const auto backbone = bundle.recipe.attributes.find("backbone");
  if (o.features.empty() &&
      (backbone == bundle.recipe.attributes.end() || backbone->second.empty()))
    throw UsageError("annotate: " + o.model +
                     " was trained on features that do not say how they were made (its /recipe "
                     "names no backbone): give --features F.h5 with features made the same way");
}

std::unique_ptr<FeatureSource> feature_source(const AnnotateOptions& o, const ModelBundle& bundle,
                                              const GlobalOptions& options) {
  if (!o.features.empty()) return store_feature_source(o.features);
  return bundle_feature_source(bundle, o.weights, parse_precision_option(o.precision), options);
}

// Whether the data say which terms the images carry: a manifest with a `terms` column or BDGP's
// tables (a plain folder does not).
bool data_carries_terms(const std::string& data) {
  namespace fs = std::filesystem;
  if (fs::is_directory(data)) return fs::exists(fs::path(data) / "standard_annotations.csv");
  std::ifstream in(data);
  std::string header;
  std::getline(in, header);
  std::stringstream cells(header);
  for (std::string cell; std::getline(cells, cell, ',');) {
    while (!cell.empty() && (cell.back() == '\r' || cell.back() == ' ')) cell.pop_back();
    if (cell == "terms") return true;
  }
  return false;
}

CallBand parse_band(const std::string& text, CallBand band) {
  const auto comma = text.find(',');
  try {
    if (comma == std::string::npos) throw std::invalid_argument("no comma");
    band.low = std::stod(text.substr(0, comma));
    band.high = std::stod(text.substr(comma + 1));
  } catch (const std::exception&) {
    throw UsageError("annotate: --band '" + text + "': expected LOW,HIGH such as 0.2,0.8");
  }
  return band;
}

void print_trust(const AnnotateSummary& s, const ModelBundle& bundle, const std::string& out) {
  if (!bundle.calibrated)
    std::cerr << "note: " << bundle.path
              << " has no calibration (written before ishannot calibrated its terms): the "
                 "probability column is empty and every call is 'uncertain'; retrain with this "
                 "version for calibrated probabilities\n";
  if (s.unvalidated_terms > 0)
    std::cerr << "note: " << s.unvalidated_terms << " of " << s.terms
              << " terms are not validated (no cross-validated AUC at or above --min-auc when "
                 "the model was trained): their calls are 'uncertain' (ishannot inspect "
              << bundle.path << " lists them)\n";
  if (s.validated)
    std::cerr << "the data carry terms: the calls are compared with them in " << out
              << "/validation.tsv\n";
}

// The registration check's verdict: a warning naming a few flagged images (all are in
// registration.tsv), or a note that no image file could be read.
void print_registration(const AnnotateSummary& s, const AnnotateParams& params,
                        const std::string& out, bool quiet) {
  if (!params.check_registration) return;
  if (s.registration_checked == 0) {
    if (quiet) return;
    std::cerr << "note: the registration check read no image file (features from a store?): "
                 "nothing checked\n";
    return;
  }
  const auto& flagged = s.registration_flagged;
  if (flagged.empty()) return;
  std::cerr << "ishannot: warning: " << flagged.size() << " of " << s.registration_checked
            << " images do not look registered like BDGP's (embryo horizontal, cropped, anterior "
               "left, dorsal up), the only layout the model learnt; their calls are less "
               "reliable. "
            << out << "/registration.tsv lists them; `ishannot standardize` registers images. "
            << "For example:\n";
  for (size_t i = 0; i < flagged.size() && i < 3; ++i) std::cerr << "  " << flagged[i] << "\n";
}

void run_annotate(AnnotateOptions& o, const GlobalOptions& options) {
  apply_threads(options);
  const Reporter reporter = make_reporter(options);
  AnnotateParams params = o.params;
  params.group_rule = parse_usage([&] { return parse_group_rule(o.group_rule); });
  if (!o.stage.empty())
    params.stage_range = parse_usage([&] { return normalise_stage_range(o.stage); });
  params.provenance = provenance(options);
  params.provenance.add_input("data", o.data);
  params.band = parse_band(o.band, params.band);
  params.validate = data_carries_terms(o.data);
  params.check_registration = !o.no_registration_check;
  require_valid("annotate", params.check());
  if (o.propagate && o.ontology.empty())
    throw UsageError("annotate: --propagate needs --ontology (the hierarchy)");
  const ModelBundle bundle = read_model_bundle(o.model);
  require_recipe(o, bundle);
  const auto ontology = load_ontology_terms(o.ontology, bundle_terms(bundle), reporter);
  const Dataset dataset = annotate_dataset(o, options, reporter);
  for (const auto& skip : dataset.skipped)
    reporter.info("skipped " + std::to_string(skip.count) + ": " + skip.reason);
  const auto source = feature_source(o, bundle, options);
  // Lock first, then restart: a second annotate on this --out stops here, before it deletes.
  std::error_code ec;
  std::filesystem::create_directories(o.out, ec);
  if (ec || !std::filesystem::is_directory(o.out))
    throw file_error(o.out, "cannot create the output folder" +
                                (ec ? ": " + ec.message() : std::string(" (a file is there)")));
  const ClaimedOutput claimed =
      claim_output(o.resume, o.out + "/annotate.lock", {o.out + "/annotate.progress"});
  params.resume = claimed.resume;
  const AnnotateSummary s = annotate_images(dataset, bundle, *source, params, o.out, reporter);
  add_term_ids(o, bundle, ontology.get(), reporter);
  if (!s.heatmap_note.empty() && !options.quiet) std::cerr << "note: " << s.heatmap_note << "\n";
  if (!options.quiet) print_trust(s, bundle, o.out);
  print_registration(s, params, o.out, options.quiet);
  std::cerr << "annotated " << s.images << " images (" << s.skipped << " skipped, " << s.resumed
            << " from an interrupted run): " << o.out << "/{annotations.tsv (" << s.rows
            << " rows), groups.tsv (" << s.groups << " groups), heatmaps/ (" << s.heatmaps
            << " maps), " << (s.validated ? "validation.tsv, reliability.tsv, " : "")
            << "skipped.tsv, " << (params.check_registration ? "registration.tsv, " : "")
            << "columns.tsv, run.json} in " << format_duration(s.seconds) << "\n";
}

}  // namespace

void add_annotate_command(CLI::App& app, GlobalOptions& options) {
  auto opt = std::make_shared<AnnotateOptions>();
  auto* cmd = app.add_subcommand(
      "annotate",
      "annotate new images with a model bundle: per image, per gene x stage, heat maps");
  add_annotate_options(cmd, *opt);
  cmd->callback([opt, &options] { run_annotate(*opt, options); });
}

}  // namespace ishannot::cli
