#pragma once
// Features for `annotate` computed on the fly with a model bundle's own recipe (annotate.h
// FeatureSource): the recipe's backbone — or the fine-tuned model it names — with its weights
// checked by SHA-256, the recipe's input size, pooling and layers.
#include <memory>
#include <string>

#include "ishannot/annotate/annotate.h"
#include "ishannot/annotate/model_bundle.h"
#include "ishannot/infer/annotate_source.h"  // recipe_extract_params, recipe_feature_source
#include "ishannot/nets/extract.h"

namespace ishannot {

/// The network of `recipe` (the backbone, or the fine-tuned model it names), its weights checked
/// as cnn_feature_source checks them (the same Errors).
std::shared_ptr<Backbone> recipe_network(const FeatureRecipe& recipe,
                                         const std::string& weights_override = "");

/// Loads the network of `recipe` through libtorch. `weights_override` replaces the recorded weights
/// path (the file moved); either way the weights' SHA-256 must be the recorded one (Error naming
/// the file otherwise). SC recipes are an Error: their features come from `ishannot baseline`
/// (--features). Images of another size than the recipe's input are resized to it (squash).
/// `precision`: the forward pass's arithmetic (Error on a CPU without bf16 for kBf16).
std::unique_ptr<FeatureSource> cnn_feature_source(const FeatureRecipe& recipe,
                                                  const std::string& weights_override = "",
                                                  Precision precision = Precision::kFp32);

}  // namespace ishannot
