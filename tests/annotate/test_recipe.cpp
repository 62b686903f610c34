// Feature recipes: which differences make annotate refuse features, and which layers have a
// spatial grid for heat maps (worked out by hand from the map shapes and poolings).
#include <gtest/gtest.h>

#include "ishannot/annotate/recipe.h"

using namespace ishannot;

namespace {

FeatureRecipe recipe(const std::string& pooling, const std::string& shape, int64_t dim,
                     const std::string& backbone = "resnet50") {
  FeatureRecipe r;
  r.attributes = {{"backbone", backbone},
                  {"weights_sha256", "aa"},
                  {"input_size", "320x128"},
                  {"resize_policy", "native"},
                  {"preprocessing", "caffe"},
                  {"pooling", pooling},
                  {"weights_path", "/w/model.json"},
                  {"created_by", "ishannot extract ..."}};
  r.layers = {{"res4f", dim, shape}};
  return r;
}

}  // namespace

TEST(Recipe, DifferencesThatMatterAndThoseThatDoNot) {
  const FeatureRecipe bundle = recipe("avg:4x10", "1024x8x20", 40960);
  auto attributes = bundle.attributes;
  attributes["created_by"] = "another command";      // provenance, not recipe
  attributes["weights_path"] = "/moved/model.json";  // the same weights elsewhere
  attributes["tool_version"] = "9.9";
  EXPECT_EQ(recipe_difference(bundle, attributes, bundle.layers), "");
  auto other = attributes;
  other["weights_sha256"] = "bb";
  EXPECT_EQ(recipe_difference(bundle, other, bundle.layers),
            "weights_sha256 is bb, the bundle needs aa (other weights: /moved/model.json vs the "
            "bundle's /w/model.json)");
  other = attributes;
  other["input_size"] = "224x224";
  EXPECT_EQ(recipe_difference(bundle, other, bundle.layers),
            "input_size is 224x224, the bundle needs 320x128");
  EXPECT_EQ(recipe_difference(bundle, attributes, {{"res5c", 40960, "2048x4x10"}}),
            "no layer res4f (it has res5c)");
  EXPECT_EQ(recipe_difference(bundle, attributes, {{"res4f", 16384, "1024x14x14"}}),
            "layer res4f is 1024x14x14 -> 16384 values, the bundle needs 1024x8x20 -> 40960");
  // SC: the dictionary and every coding setting are part of the recipe.
  FeatureRecipe sc = recipe("max", "", 21504, "sparse-coding");
  sc.attributes["sc_dictionary_sha256"] = "d1";
  sc.attributes["sc_dictionary_scope"] = "all images coded";
  auto sc_new = sc.attributes;
  sc_new["sc_dictionary_scope"] = "loaded from d.txt";  // how the dictionary came: not recipe
  EXPECT_EQ(recipe_difference(sc, sc_new, sc.layers), "");
  sc_new["sc_dictionary_sha256"] = "d2";
  EXPECT_EQ(recipe_difference(sc, sc_new, sc.layers),
            "sc_dictionary_sha256 is d2, the bundle needs d1");
}

TEST(Recipe, HeatMapGrids) {
  std::string reason;
  auto grids = recipe_grids(recipe("none", "1024x8x20", 163840), &reason);
  ASSERT_EQ(grids.size(), 1u);
  EXPECT_EQ(grids[0].channels, 1024);
  EXPECT_EQ(grids[0].rows, 8);
  EXPECT_EQ(grids[0].cols, 20);
  grids = recipe_grids(recipe("avg:2x5", "1024x8x20", 10240), &reason);
  ASSERT_EQ(grids.size(), 1u);
  EXPECT_EQ(grids[0].rows, 2);
  EXPECT_EQ(grids[0].cols, 5);
  EXPECT_TRUE(recipe_grids(recipe("avg:1x1", "1024x8x20", 1024), &reason).empty());
  EXPECT_NE(reason.find("globally pooled features have no heat map"), std::string::npos);
  EXPECT_TRUE(recipe_grids(recipe("none", "4096", 4096), &reason).empty());
  EXPECT_NE(reason.find("is a vector"), std::string::npos);
  EXPECT_TRUE(recipe_grids(recipe("max", "", 21504, "sparse-coding"), &reason).empty());
  EXPECT_NE(reason.find("SC features"), std::string::npos);
  EXPECT_TRUE(recipe_grids(recipe("avg:2x5", "1024x8x20", 999), &reason).empty());
  EXPECT_NE(reason.find("do not match"), std::string::npos);
}
