// annotate's on-the-fly features through libtorch (nets/annotate_source.h): the recipe's network
// loaded and checked, then infer's recipe_feature_source over it.
#include <filesystem>

#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/features/pool_grid.h"
#include "ishannot/features/store_attributes.h"
#include "ishannot/image/image.h"
#include "ishannot/infer/annotate_source.h"
#include "ishannot/nets/annotate_source.h"
#include "ishannot/nets/backbone.h"
#include "ishannot/nets/extract.h"
#include "ishannot/nets/finetune.h"

namespace ishannot {

namespace {

std::string attribute(const FeatureRecipe& recipe, const std::string& key) {
  auto it = recipe.attributes.find(key);
  return it == recipe.attributes.end() ? std::string() : it->second;
}

}  // namespace

// The recipe's network, its weights checked against the recorded SHA-256.
std::shared_ptr<Backbone> recipe_network(const FeatureRecipe& recipe, const std::string& override) {
  const std::string backbone = attribute(recipe, "backbone");
  if (backbone == "sparse-coding")
    throw Error(
        "the bundle was trained on sparse-coding (SC) features: make them for the new "
        "images with ishannot baseline --dictionary DICT (the training features' "
        "dictionary, SHA-256 " +
        attribute(recipe, "sc_dictionary_sha256") + ") and pass them with --features");
  const std::string path = override.empty() ? attribute(recipe, "weights_path") : override;
  if (path.empty() || !std::filesystem::exists(path))
    throw file_error(path.empty() ? std::string("(no weights path)") : path,
                     "the bundle's weights file is missing (give its new place with --weights)");
  std::shared_ptr<Backbone> net;
  if (!attribute(recipe, store_attr::kFinetuneStageRange).empty()) {
    net = load_finetuned_model(path).net->backbone_ptr();  // provenance: the model file
  } else {
    net = load_backbone(backbone, path);
  }
  if (net->weights_sha256() != attribute(recipe, "weights_sha256"))
    throw file_error(path, "weights SHA-256 " + net->weights_sha256() +
                               " differ from the bundle's " + attribute(recipe, "weights_sha256") +
                               " (features would not be those the models were trained on)");
  return net;
}

std::unique_ptr<FeatureSource> cnn_feature_source(const FeatureRecipe& recipe,
                                                  const std::string& weights_override,
                                                  Precision precision) {
  return recipe_feature_source(backbone_feature_net(recipe_network(recipe, weights_override)),
                               recipe, precision);
}

}  // namespace ishannot
