#pragma once
// A bundle must be applied to features made exactly as its training features were: same
// backbone, weights (SHA-256), input size and resize policy, pixel preprocessing, pooling, layers
// (names, dims and map shapes); for SC features the same SIFT, coder, pyramid and dictionary
// (SHA-256). recipe_difference says what differs, in one phrase. Paths, dates, seeds of the
// extraction and the command line are not part of a recipe.
//
// Heat maps: a layer has a spatial grid when its map (shape "CxHxW") was flattened whole (grid
// H x W) or pooled to a grid of more than one cell (GhxGw); globally pooled layers, vectors (fc)
// and SC's pyramid (cells of several levels overlap) have none.
#include <map>
#include <string>
#include <vector>

#include "ishannot/annotate/model_bundle.h"

namespace ishannot {

/// Root attributes that define a recipe (compared when present on either side).
const std::vector<std::string>& recipe_keys();

/// "" when features with these store attributes and layers can be fed to the bundle; else one
/// phrase naming the first difference, e.g. "pooling is avg:4x4, the bundle needs avg:2x5".
std::string recipe_difference(const FeatureRecipe& bundle,
                              const std::map<std::string, std::string>& attributes,
                              const std::vector<LayerSpec>& layers);

/// The heat-map geometry of one layer: channels x rows x cols cells, values stored (C, H, W).
struct LayerGrid {
  int64_t channels = 0;
  int rows = 0, cols = 0;
};

/// The grids of every layer of the recipe, or "" / the reason there is no heat map (`reason`).
std::vector<LayerGrid> recipe_grids(const FeatureRecipe& recipe, std::string* reason);

}  // namespace ishannot
