#pragma once
// annotate's on-the-fly features from a model bundle's recipe (annotate.h FeatureSource),
// torch-free: the recipe's input size, pooling and layers run through a FeatureNet. The network is
// the prepared ResNet50 (prepared_recipe_network: no libtorch) when the recipe's weights are
// cached, else nets' libtorch Backbone (nets/annotate_source.h cnn_feature_source).
#include <memory>
#include <string>

#include "ishannot/annotate/annotate.h"
#include "ishannot/annotate/model_bundle.h"
#include "ishannot/infer/extract.h"

namespace ishannot {

/// The extraction parameters of `recipe` (its layers, pooling, input size): a RowExtractor built
/// with them on the recipe's network at `*width` x `*height` gives the recipe's features of
/// images resized to that size (squash), as annotate computes them. Error for a pooling the
/// recipe cannot hold (an edited or damaged bundle).
ExtractParams recipe_extract_params(const FeatureRecipe& recipe, int* width, int* height,
                                    ResizePolicy* policy);

/// A FeatureSource giving the recipe's features through `net` (whose weights the caller has
/// checked against the recipe), its forward pass in `precision`. Images of another size than
/// the recipe's input are resized to it (squash); an unreadable image is a per-image failure.
std::unique_ptr<FeatureSource> recipe_feature_source(std::unique_ptr<FeatureNet> net,
                                                     const FeatureRecipe& recipe,
                                                     Precision precision = Precision::kFp32);

/// The recipe's network without libtorch, or nullptr. Not null only when the recipe is an
/// ImageNet ResNet50 (not fine-tuned), its weights (`weights_override`, else the recorded path)
/// have prepared weights in the cache whose SHA-256 is the recorded one, and its layers are ones
/// the plan runs. nullptr sends the caller to nets' cnn_feature_source, which loads the network
/// through libtorch and says what is wrong, if anything (moved or changed weights, SC features).
std::unique_ptr<FeatureNet> prepared_recipe_network(const FeatureRecipe& recipe,
                                                    const std::string& weights_override = "");

}  // namespace ishannot
