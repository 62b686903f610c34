// The SC baseline's dictionary choice and store attributes (sparse/sc_store.h).
#include "ishannot/sparse/sc_store.h"

#include <filesystem>
#include <set>

#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/features/store_attributes.h"

namespace ishannot {

void check_dictionary_matches(const std::string& path, const Dictionary& dictionary,
                              const ScBaselineParams& params) {
  for (const auto& [key, value] : sc_attributes(params)) {
    if (key.rfind("sc_sift_", 0) != 0) continue;
    const auto it = dictionary.provenance.find(key);
    if (it != dictionary.provenance.end() && it->second != value)
      throw file_error(
          path, "dictionary learned with " + key + "=" + it->second + ", this run uses " + value);
  }
}

namespace {

ScDictionaryResult learned_dictionary(const Dataset& images, const ScDictionaryChoice& choice,
                                      const ScBaselineParams& params, const Reporter& reporter) {
  ScDictionaryResult out;
  out.scope = choice.genes.empty() ? "all images coded (no labels used)" : choice.genes_scope;
  const std::set<std::string> allowed(choice.genes.begin(), choice.genes.end());
  std::vector<std::string> paths;
  for (const auto& image : images.images)
    if (allowed.empty() || allowed.count(image.gene)) paths.push_back(image.path);
  if (paths.empty()) throw Error("no image of the training genes among the images to code");
  reporter.info("baseline: learning a " + std::to_string(params.dictionary.atoms) +
                "-atom dictionary from " + out.scope);
  out.dictionary = learn_sc_dictionary(paths, params, reporter);
  out.dictionary.provenance["dictionary_scope"] = out.scope;
  out.path = choice.run_path;
  save_dictionary(out.path, out.dictionary);
  return out;
}

}  // namespace

ScDictionaryResult sc_dictionary_for(const Dataset& images, const ScDictionaryChoice& choice,
                                     const ScBaselineParams& params, const Reporter& reporter) {
  ScDictionaryResult out;
  if (!choice.load_path.empty()) {
    out.dictionary = load_dictionary(choice.load_path);
    check_dictionary_matches(choice.load_path, out.dictionary, params);
    out.path = choice.load_path;
    out.scope = "loaded from " + choice.load_path;
    reporter.info("baseline: dictionary from " + choice.load_path);
    return out;
  }
  if (choice.resume && std::filesystem::exists(choice.run_path)) {
    out.dictionary = load_dictionary(choice.run_path);
    check_dictionary_matches(choice.run_path, out.dictionary, params);
    out.path = choice.run_path;
    const auto scope = out.dictionary.provenance.find("dictionary_scope");
    out.scope = scope != out.dictionary.provenance.end() ? scope->second : "resumed";
    reporter.info("baseline: resuming with the dictionary " + choice.run_path);
    return out;
  }
  return learned_dictionary(images, choice, params, reporter);
}

std::map<std::string, std::string> sc_store_attributes(const Dataset& images,
                                                       const ScEncoder& encoder,
                                                       const ScDictionaryResult& dictionary,
                                                       const std::vector<std::string>& genes,
                                                       const Provenance& run) {
  StoreProvenance store;
  store.run = run;
  store.manifest_path = images.source;
  store.manifest_sha256 = dataset_sha256(images);
  store.backbone = "sparse-coding";
  store.weights_path = dictionary.path;
  store.weights_sha256 = sha256_file(dictionary.path);
  store.input_size = "native";
  store.resize_policy = "native";
  store.preprocessing = "sift-" + sift_channel_name(encoder.params().sift.channel);
  for (const auto& l : encoder.layers()) store.layers += (store.layers.empty() ? "" : ",") + l.name;
  auto attributes = store_attributes(store);
  for (const auto& [key, value] : sc_attributes(encoder.params())) attributes[key] = value;
  attributes["pooling"] = attributes["sc_poolings"];
  attributes["sc_dictionary_scope"] = dictionary.scope;
  attributes["sc_dictionary_sha256"] = store.weights_sha256;
  if (!genes.empty()) {
    std::string list;
    for (const auto& g : genes) list += g + "\n";
    attributes[store_attr::kScDictionaryGenes] = list;
  }
  return attributes;
}

}  // namespace ishannot
