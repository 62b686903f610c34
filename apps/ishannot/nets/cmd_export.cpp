// `ishannot export --model model.h5 --out DIR`: the bundle as one ONNX graph with a bioimage.io
// package around it (docs/SHARING.md). Test images: the first --test-images readable images of
// --data, or synthetic embryos of the bundle's first stage range.
#include <torch/torch.h>

#include <filesystem>
#include <iostream>

#include "../commands.h"
#include "../ontology_cli.h"
#include "../options.h"
#include "cnn_commands.h"
#include "ishannot/annotate/model_bundle.h"
#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/data/synth.h"
#include "ishannot/image/image.h"
#include "ishannot/nets/onnx_export.h"

namespace ishannot::cli {

namespace {

struct ExportOptions {
  std::string model, out, data, weights, ontology;
  int test_images = 4;
  bool force = false;
};

// The test images (BGR, as decoded) and their ids.
void test_images(const ExportOptions& o, const ModelBundle& bundle, std::vector<cv::Mat>& images,
                 std::vector<std::string>& ids, const Reporter& reporter) {
  if (!o.data.empty()) {
    const Dataset ds = read_dataset(o.data);
    for (const auto& image : ds.images) {
      if (static_cast<int>(images.size()) == o.test_images) break;
      try {
        images.push_back(read_image_bgr(image.path));
        ids.push_back(image.id);
      } catch (const Error& e) {
        reporter.info("export: test image skipped: " + std::string(e.what()));
      }
    }
    if (images.empty()) throw Error(o.data + ": no readable image for the test tensors");
    return;
  }
  const StageModel& stage = bundle.stages.front();
  for (int i = 0; i < o.test_images; ++i) {
    std::vector<std::string> terms;
    for (size_t t = static_cast<size_t>(i); t < stage.terms.size(); t += 2)
      terms.push_back(stage.terms[t].term);
    images.push_back(render_synthetic_image(terms, stage.stage_range, 1000 + i));
    ids.push_back("synthetic_" + std::to_string(i));
  }
}

void run_export(const ExportOptions& o, const GlobalOptions& options) {
  configure_cnn_process(options);
  const Reporter reporter = make_reporter(options);
  torch::InferenceMode inference;
  if (std::filesystem::exists(o.out) && !o.force)
    throw UsageError("export: " + o.out + " already exists (give --force to replace it)");
  refuse_inputs_as_output(o.out, {{o.model, "the model bundle"}});
  ModelBundle bundle = read_model_bundle(o.model);
  const std::string refusal = export_refusal(bundle.recipe);
  if (!refusal.empty()) throw file_error(o.model, "cannot be exported to ONNX: " + refusal);
  std::vector<cv::Mat> images;
  std::vector<std::string> ids;
  test_images(o, bundle, images, ids, reporter);
  ExportParams params{o.weights, provenance(options)};
  ModelPackage pkg = make_model_package(bundle, images, ids, params);
  std::vector<std::string> terms;
  for (const auto& s : bundle.stages)
    for (const auto& t : s.terms) terms.push_back(t.term);
  if (const auto ontology = load_ontology_terms(o.ontology, terms, reporter)) {
    pkg.term_ids = ontology->ids;
    pkg.ontology = ontology->version();
  }
  const auto files = write_model_package(o.out, bundle, pkg, o.force);
  std::cerr << "exported " << o.model << " to " << o.out << ": " << files.size() << " files, "
            << bundle.stages.size() << " outputs, model.onnx " << pkg.onnx.size() / 1000000
            << " MB, test tensors of " << ids.size() << " images\n";
}

}  // namespace

void add_export_command(CLI::App& app, GlobalOptions& options) {
  auto o = std::make_shared<ExportOptions>();
  auto* cmd = app.add_subcommand(
      "export", "write a model bundle as one ONNX graph in a bioimage.io package (rdf.yaml)");
  cmd->add_option("--model", o->model, "model bundle written by ishannot train")->required();
  add_out_option(cmd, o->out, "package folder (refused when it exists, unless --force)");
  cmd->add_flag("--force", o->force, "replace an existing package folder");
  add_data_option(cmd, o->data, false,
                  "images for the test tensors (default: synthetic embryos of the first stage "
                  "range)");
  cmd->add_option("--test-images", o->test_images, "images in the test tensors")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_option("--weights", o->weights,
                  "the bundle's weight file at a new place (its SHA-256 is checked)");
  add_ontology_option(cmd, o->ontology);
  cmd->callback([o, &options] { run_export(*o, options); });
}

}  // namespace ishannot::cli
