// The fine-tuned model on disk: MODEL is a libtorch archive of the whole MultiTaskNet (backbone
// with its fine-tuned stages, head); MODEL.json is the sidecar that says how to rebuild and use it
// (backbone and base weights, cut and freeze points, input size, preprocessing, terms, stage
// range, training genes, curve) and carries the archive's SHA-256.
#include <torch/torch.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "finetune/checkpoint.h"
#include "ishannot/common/error.h"
#include "ishannot/common/format_versions.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/image/image.h"

namespace ishannot {

namespace detail {

void save_model(const std::string& path, MultiTaskNet& net, const nlohmann::json& sidecar) {
  torch::serialize::OutputArchive archive;
  net.save(archive);
  write_atomically(path, [&](const std::string& tmp) { archive.save_to(tmp); });
  nlohmann::json j = sidecar;
  j["model_file_sha256"] = sha256_file(path);
  write_text_atomically(path + ".json", j.dump(2) + "\n");
}

}  // namespace detail

void check_model_output(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec))
    throw file_error(path, "is a folder; --out names the model file to write");
  const fs::path folder = fs::path(path).parent_path();
  if (!folder.empty() && !fs::is_directory(folder, ec))
    throw file_error(path, "its folder " + folder.string() + " does not exist");
  auto ours = [](const std::string& sidecar) {
    try {
      return nlohmann::json::parse(read_text_file(sidecar)).value("format", "") ==
             "ishannot-finetuned-model";
    } catch (const std::exception&) {
      return false;
    }
  };
  const bool model = fs::exists(path, ec), sidecar = fs::exists(path + ".json", ec);
  if ((model || sidecar) && !(sidecar && ours(path + ".json")))
    throw file_error(model ? path : path + ".json",
                     "exists and is not a fine-tuned model of ours (no ishannot sidecar "
                     "MODEL.json): refusing to overwrite it (remove it or choose another --out)");
}

FinetunedModel load_finetuned_model(const std::string& path, std::shared_ptr<Backbone> base,
                                    const std::string& weights) {
  const std::string sidecar_path = path + ".json";
  FinetunedModel model;
  model.sidecar_json = read_text_file(sidecar_path);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(model.sidecar_json);
    if (j.value("format", "") != "ishannot-finetuned-model") {
      throw file_error(sidecar_path, "not an ishannot fine-tuned model sidecar");
    }
    if (j.value("format_version", 0) != kFinetunedModelFormatVersion) {
      throw file_error(sidecar_path, "unsupported format_version " +
                                         std::to_string(j.value("format_version", 0)));
    }
    model.terms = j.at("terms").get<std::vector<std::string>>();
    model.stage_range = j.at("stage_range").get<std::string>();
    model.input_size = j.at("input_size").get<std::string>();
    for (const char* key : {"train_genes", "val_genes"})
      for (const auto& g : j.at(key)) model.seen_genes.push_back(g.get<std::string>());
  } catch (const nlohmann::json::exception& e) {
    throw file_error(sidecar_path, std::string("bad sidecar: ") + e.what());
  }
  model.file_sha256 = sha256_file(path);
  if (model.file_sha256 != j.value("model_file_sha256", "")) {
    throw file_error(path, "SHA-256 differs from the one its sidecar " + sidecar_path +
                               " records (file replaced or truncated?)");
  }
  const auto& head = j.at("head");
  MultiTaskSpec spec;
  spec.cut = head.at("cut").get<std::string>();
  spec.freeze_through = head.at("freeze_through").get<std::string>();
  spec.pool = head.at("pool").get<std::string>();
  spec.hidden = head.at("hidden").get<int>();
  spec.dropout = head.at("dropout").get<double>();
  if (!base) {
    const std::string arch = j.at("backbone").get<std::string>();
    const std::string recorded = j.at("base_weights_path").get<std::string>();
    // The archive holds every parameter: the base weight file only supplies the architecture.
    base = load_backbone(arch, weights.empty() ? recorded : weights);
  }
  model.net = std::make_shared<MultiTaskNet>(base, spec, static_cast<int>(model.terms.size()),
                                             j.at("input_width").get<int>(),
                                             j.at("input_height").get<int>());
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    model.net->load(archive);
  } catch (const c10::Error& e) {
    throw file_error(
        path, std::string("cannot load the fine-tuned network: ") + e.what_without_backtrace());
  }
  model.net->eval();
  // The backbone says where its weights come from (this file) and what they saw (the genes):
  // extraction records both in the store, whoever calls it.
  auto& backbone = *model.net->backbone_ptr();
  backbone.set_weights_provenance(path, model.file_sha256);
  backbone.set_finetune_origin({model.stage_range, model.seen_genes});
  return model;
}

}  // namespace ishannot
