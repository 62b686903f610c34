// `ishannot annotate --model model.h5 --data IMAGES --out DIR`: a model bundle applied to new
// images (a folder, a manifest or BDGP tables): annotations.tsv, groups.tsv, heatmaps/,
// skipped.tsv, run.json. Features are computed with the bundle's recipe, or read from --features.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "ishannot/annotate/annotate.h"
#include "ishannot/annotate/model_bundle.h"
#include "ishannot/common/error.h"
#include "ishannot/common/format.h"
#include "ishannot/ontology/term_columns.h"
#include "ontology_cli.h"
#include "options.h"

namespace ishannot::cli {

namespace {

struct AnnotateOptions {
  std::string model, data, out, features, stage, weights, group_rule = "mean", ontology;
  bool propagate = false;
  std::vector<std::string> stages;
  ResumeOptions resume;
  AnnotateParams params;
};

void add_annotate_options(CLI::App* cmd, AnnotateOptions& o) {
  cmd->add_option("--model", o.model, "model bundle written by ishannot train")->required();
  add_data_option(cmd, o.data, true,
                  "the images to annotate (a manifest's terms, if any, are not used)");
  add_out_option(cmd, o.out, "output folder");
  cmd->add_option("--features", o.features,
                  "feature store made with the bundle's recipe (default: computed on the fly)");
  cmd->add_option("--stage", o.stage,
                  "stage range of images whose data give none (a folder of images)");
  add_stages_option(cmd, o.stages, "annotate only images of these (default: all)");
  cmd->add_option("--weights", o.weights,
                  "the bundle's weight file at a new place (its SHA-256 is checked)");
  cmd->add_option("--heatmaps", o.params.heatmap_terms,
                  "heat maps per image: its top terms with label 1 (0 = none)")
      ->capture_default_str();
  cmd->add_option("--sheet-images", o.params.sheet_images,
                  "images per contact sheet (the highest-scoring of each term)")
      ->capture_default_str();
  cmd->add_option("--group-rule", o.group_rule,
                  "how a gene x stage group's image scores combine: mean | max | votes")
      ->check(CLI::IsMember({"mean", "max", "votes"}))
      ->capture_default_str();
  add_batch_option(cmd, o.params.batch, "images per batch");
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

// The images: with --features and a manifest, the files need not exist (only ids matter).
// --stages keeps the images of those stage ranges (and those without one, for --stage).
Dataset annotate_dataset(const AnnotateOptions& o, const Reporter& reporter) {
  const bool manifest = std::filesystem::is_regular_file(o.data);
  Dataset ds =
      manifest && !o.features.empty() ? read_manifest(o.data, false) : read_dataset(o.data);
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

std::unique_ptr<FeatureSource> feature_source(const AnnotateOptions& o, const ModelBundle& bundle,
                                              const GlobalOptions& options) {
  if (!o.features.empty()) return store_feature_source(o.features);
#ifdef ISHANNOT_WITH_TORCH
  return bundle_feature_source(bundle, o.weights, options);
#else
  (void)bundle;
  (void)options;
  throw UsageError(
      "annotate: this build has no CNN (built without libtorch): give --features "
      "F.h5 made with the bundle's recipe");
#endif
}

void run_annotate(AnnotateOptions& o, const GlobalOptions& options) {
  apply_threads(options);
  const Reporter reporter = make_reporter(options);
  AnnotateParams params = o.params;
  params.group_rule = parse_usage([&] { return parse_group_rule(o.group_rule); });
  if (!o.stage.empty())
    params.stage_range = parse_usage([&] { return normalise_stage_range(o.stage); });
  params.provenance = provenance(options);
  params.provenance["data"] = o.data;
  require_valid("annotate", params.check());
  params.resume = apply_resume_options(o.resume, {o.out + "/annotate.progress"});
  if (o.propagate && o.ontology.empty())
    throw UsageError("annotate: --propagate needs --ontology (the hierarchy)");
  const ModelBundle bundle = read_model_bundle(o.model);
  const auto ontology = load_ontology_terms(o.ontology, bundle_terms(bundle), reporter);
  const Dataset dataset = annotate_dataset(o, reporter);
  for (const auto& skip : dataset.skipped)
    reporter.info("skipped " + std::to_string(skip.count) + ": " + skip.reason);
  const auto source = feature_source(o, bundle, options);
  const AnnotateSummary s = annotate_images(dataset, bundle, *source, params, o.out, reporter);
  if (!ontology && bundle.attributes.count("term_ids")) {
    // A bundle trained with --ontology knows its terms' ids: term_id without the OBO file.
    std::map<std::string, std::string> ids;
    for (const auto& [term, id] : nlohmann::json::parse(bundle.attributes.at("term_ids")).items())
      ids[term] = id.get<std::string>();
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
  if (!s.heatmap_note.empty() && !options.quiet) std::cerr << "note: " << s.heatmap_note << "\n";
  std::cerr << "annotated " << s.images << " images (" << s.skipped << " skipped, " << s.resumed
            << " from an interrupted run): " << o.out << "/{annotations.tsv (" << s.rows
            << " rows), groups.tsv (" << s.groups << " groups), heatmaps/ (" << s.heatmaps
            << " maps), skipped.tsv, run.json} in " << format_duration(s.seconds) << "\n";
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
