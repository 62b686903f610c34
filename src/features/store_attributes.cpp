// The documented root attributes of a store (store_attributes.h).
#include "ishannot/features/store_attributes.h"

#include <filesystem>

#include "ishannot/common/fs_util.h"

namespace ishannot {

std::map<std::string, std::string> store_attributes(const StoreProvenance& p) {
  return {{"tool_version", p.run.version()},
          {"created_by", p.run.command_line},
          {"manifest_path", p.manifest_path},
          {"manifest_sha256", p.manifest_sha256},
          {"backbone", p.backbone},
          {"weights_path", p.weights_path},
          {"weights_sha256", p.weights_sha256},
          {"input_size", p.input_size},
          {"resize_policy", p.resize_policy},
          {"preprocessing", p.preprocessing},
          {"pooling", p.pooling},
          {"layers", p.layers},
          {"precision", p.precision},
          {"seed", std::to_string(p.run.seed.value_or(0))}};
}

std::map<std::string, std::string> store_provenance_entries(
    const std::map<std::string, std::string>& attributes, const std::string& prefix) {
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : attributes)
    if (key != store_attr::kFinetuneGenes && key != store_attr::kScDictionaryGenes)
      out[prefix + key] = value;
  return out;
}

void set_dataset_metadata(FeatureStoreWriter& writer, const Dataset& dataset) {
  std::map<std::string, std::string> genes, stages;
  bool any_gene = false;
  for (const auto& image : dataset.images) {
    genes[image.id] = image.gene;
    stages[image.id] = image.stage_range;
    any_gene = any_gene || !image.gene.empty();
  }
  if (!any_gene) return;
  writer.set_metadata("gene", genes);
  writer.set_metadata("stage_range", stages);
}

std::string dataset_sha256(const Dataset& dataset) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(dataset.source, ec)) return sha256_file(dataset.source);
  std::string listing;
  for (const auto& image : dataset.images) listing += image.id + "\t" + image.path + "\n";
  return sha256_bytes(listing);
}

std::string store_origin_difference(const std::map<std::string, std::string>& attributes,
                                    const Dataset& dataset,
                                    const std::map<std::string, std::string>& expected) {
  auto value = [&](const std::string& key) {
    const auto it = attributes.find(key);
    return it == attributes.end() ? std::string("absent") : "'" + it->second + "'";
  };
  const std::string sha = dataset_sha256(dataset);
  if (value("manifest_sha256") != "'" + sha + "'")
    return "its manifest_sha256 is " + value("manifest_sha256") + ", that of " + dataset.source +
           " is '" + sha + "' (features of another dataset)";
  for (const auto& [key, want] : expected)
    if (value(key) != "'" + want + "'")
      return "its " + key + " is " + value(key) + ", this run's is '" + want + "'";
  return "";
}

}  // namespace ishannot
