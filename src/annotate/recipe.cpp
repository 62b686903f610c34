// Feature recipes (recipe.h): what must match, and the spatial grid of each layer.
#include "ishannot/annotate/recipe.h"

#include <cstdio>

#include "ishannot/common/error.h"
#include "ishannot/features/pool_grid.h"

namespace ishannot {

const std::vector<std::string>& recipe_keys() {
  static const std::vector<std::string> keys = {
      "backbone", "weights_sha256", "input_size", "resize_policy", "preprocessing", "pooling",
      // SC (baseline): how descriptors are computed, coded and pooled, and the dictionary itself.
      "sc_sift_patch_sizes", "sc_sift_step", "sc_sift_channel", "sc_sift_contrast_threshold",
      "sc_sift_smooth", "sc_coder", "sc_lambda", "sc_omp_sparsity", "sc_pyramid", "sc_l2_normalise",
      "sc_poolings", "sc_dictionary_sha256"};
  return keys;
}

std::string recipe_difference(const FeatureRecipe& bundle,
                              const std::map<std::string, std::string>& attributes,
                              const std::vector<LayerSpec>& layers) {
  auto value = [](const std::map<std::string, std::string>& m, const std::string& key) {
    auto it = m.find(key);
    return it == m.end() ? std::string("(none)") : it->second;
  };
  for (const auto& key : recipe_keys()) {
    const std::string want = value(bundle.attributes, key), have = value(attributes, key);
    if (want != have)
      return key + " is " + have + ", the bundle needs " + want +
             (key == "weights_sha256"
                  ? " (other weights: " + value(attributes, "weights_path") + " vs the bundle's " +
                        value(bundle.attributes, "weights_path") + ")"
                  : "");
  }
  for (const auto& need : bundle.layers) {
    const LayerSpec* found = nullptr;
    for (const auto& l : layers)
      if (l.name == need.name) found = &l;
    if (!found) {
      std::string names;
      for (const auto& l : layers) names += (names.empty() ? "" : ", ") + l.name;
      return "no layer " + need.name + " (it has " + names + ")";
    }
    if (found->dim != need.dim || found->map_shape() != need.shape)
      return "layer " + need.name + " is " + found->map_shape() + " -> " +
             std::to_string(found->dim) + " values, the bundle needs " + need.shape + " -> " +
             std::to_string(need.dim);
  }
  return "";
}

namespace {

bool parse_shape(const std::string& shape, int64_t* c, int64_t* h, int64_t* w) {
  long long a = 0, b = 0, d = 0;
  char x1 = 0, x2 = 0, extra = 0;
  if (std::sscanf(shape.c_str(), "%lld%c%lld%c%lld%c", &a, &x1, &b, &x2, &d, &extra) != 5 ||
      x1 != 'x' || x2 != 'x')
    return false;
  *c = a;
  *h = b;
  *w = d;
  return a > 0 && b > 0 && d > 0;
}

}  // namespace

std::vector<LayerGrid> recipe_grids(const FeatureRecipe& recipe, std::string* reason) {
  auto attribute = [&](const std::string& key) {
    auto it = recipe.attributes.find(key);
    return it == recipe.attributes.end() ? std::string() : it->second;
  };
  reason->clear();
  if (attribute("backbone") == "sparse-coding") {
    *reason =
        "SC features are pooled over a spatial pyramid (overlapping cells of several "
        "levels): no heat map";
    return {};
  }
  PoolGrid pool;
  try {
    pool = parse_pool_grid(attribute("pooling").empty() ? "none" : attribute("pooling"));
  } catch (const Error&) {
    *reason = "pooling '" + attribute("pooling") + "' has no grid: no heat map";
    return {};
  }
  std::vector<LayerGrid> grids;
  for (const auto& layer : recipe.layers) {
    int64_t c = 0, h = 0, w = 0;
    if (!parse_shape(layer.shape, &c, &h, &w)) {
      *reason =
          "layer " + layer.name + " is a vector (" + layer.shape + "), not a map: no heat map";
      return {};
    }
    LayerGrid g;
    g.channels = c;
    g.rows = static_cast<int>(pool.pooled() ? pool.rows : h);
    g.cols = static_cast<int>(pool.pooled() ? pool.cols : w);
    if (g.channels * g.rows * g.cols != layer.dim) {
      *reason = "layer " + layer.name + ": " + std::to_string(layer.dim) +
                " values do not match its map " + layer.shape + " and pooling " + pool.text();
      return {};
    }
    if (g.rows * g.cols < 2) {
      *reason = "layer " + layer.name + " is pooled to one cell (" + pool.text() +
                "): globally pooled features have no heat map";
      return {};
    }
    grids.push_back(g);
  }
  return grids;
}

}  // namespace ishannot
