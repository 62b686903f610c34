// annotate's on-the-fly features (nets/annotate_source.h, and infer/annotate_source.h without
// libtorch) against the torch reference: the
// recipe's layers only (a source that also ran ExtractParams' default taps once cost annotate a
// third of its time), pooled as the recipe says, the same values as Backbone::forward_taps
// pooled by torch.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "ishannot/features/store_attributes.h"
#include "ishannot/image/image.h"
#include "ishannot/nets/annotate_source.h"
#include "ishannot/nets/backbone.h"
#include "support/nets_support.h"
#include "support/test_paths.h"
#include "support/test_util.h"

using namespace ishannot;

TEST(AnnotateSource, ComputesTheRecipesLayersOnlyAsTheTorchPathDoes) {
  ISHANNOT_SKIP_WITHOUT_WEIGHTS();
  const std::string weights = default_resnet50_weights();
  auto net = load_backbone("resnet50", weights);
  FeatureRecipe recipe;
  recipe.attributes = {{"backbone", "resnet50"},
                       {"weights_path", weights},
                       {"weights_sha256", net->weights_sha256()},
                       {"input_size", "320x128"},
                       {"resize_policy", "squash"},
                       {"pooling", "avg:2x5"},
                       {"layers", "res4f"}};
  recipe.layers = {{"res4f", 1024 * 2 * 5, "1024x8x20"}};
  const auto source = cnn_feature_source(recipe);
  const auto layers = source->layers();
  ASSERT_EQ(layers.size(), 1u);
  EXPECT_EQ(layers[0].name, "res4f");
  EXPECT_EQ(layers[0].dim, 10240);  // 1024 channels x 2 x 5 cells

  const std::vector<std::string> photos = {test::photo("baboon.jpg"), test::photo("orange.jpg")};
  std::vector<ImageRecord> records(photos.size());
  std::vector<const ImageRecord*> batch;
  for (size_t i = 0; i < photos.size(); ++i) {
    records[i].id = "p" + std::to_string(i);
    records[i].path = photos[i];
    batch.push_back(&records[i]);
  }
  std::vector<float> rows;
  std::vector<std::string> failure;
  source->read(batch, {"res4f"}, rows, failure, nullptr);
  ASSERT_EQ(rows.size(), 2u * 10240u);

  // Reference: the torch path of the same network, pooled by torch.
  net->eval();
  torch::NoGradGuard no_grad;
  std::vector<cv::Mat> inputs;
  for (const auto& p : photos)
    inputs.push_back(resize_for_network(read_image_bgr(p), 320, 128, ResizePolicy::kSquash));
  const int tap = net->resolve_layers("res4f").front();
  const auto maps = net->forward_taps(net->to_input(inputs), {tap});
  const torch::Tensor ref =
      torch::adaptive_avg_pool2d(maps.at(tap), {2, 5}).flatten(1).contiguous();
  const float* r = ref.data_ptr<float>();
  float max_ref = 0, max_diff = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    max_ref = std::max(max_ref, std::abs(r[i]));
    max_diff = std::max(max_diff, std::abs(rows[i] - r[i]));
  }
  EXPECT_LT(max_diff, 1e-4f * max_ref);

  // The same recipe without libtorch (infer/annotate_source.h; load_backbone above wrote or found
  // the prepared weights): the same rows, bit for bit.
  auto prepared = prepared_recipe_network(recipe);
  ASSERT_NE(prepared, nullptr) << "no prepared weights (ISHANNOT_WEIGHTS_CACHE=off?)";
  const auto torch_free = recipe_feature_source(std::move(prepared), recipe);
  EXPECT_EQ(torch_free->layers()[0].dim, 10240);
  std::vector<float> torch_free_rows;
  torch_free->read(batch, {"res4f"}, torch_free_rows, failure, nullptr);
  EXPECT_EQ(torch_free_rows, rows);
  // Not this network or not these weights: left to the libtorch path (which says why).
  for (const auto& [key, value] :
       std::vector<std::pair<std::string, std::string>>{{"weights_sha256", std::string(64, '0')},
                                                        {store_attr::kFinetuneStageRange, "13-16"},
                                                        {"backbone", "vgg16"}}) {
    FeatureRecipe other = recipe;
    other.attributes[key] = value;
    EXPECT_EQ(prepared_recipe_network(other), nullptr) << key;
  }
  FeatureRecipe past_the_plan = recipe;
  past_the_plan.layers = {{"avg_pool", 2048, "2048"}};
  EXPECT_EQ(prepared_recipe_network(past_the_plan), nullptr);
}

// Issue 22 (Low): an invalid /recipe pooling blamed --pool, an option never given.
TEST(AnnotateSource, AnInvalidRecipePoolingNamesTheRecipeNotAnOption) {
  FeatureRecipe recipe;
  recipe.attributes = {{"backbone", "resnet50"}, {"pooling", "avg:3y"}, {"input_size", "64x64"}};
  recipe.layers = {{"res3d", 512, "512x8x8"}};
  int width = 0, height = 0;
  ResizePolicy policy;
  const std::string message =
      test::error_text([&] { recipe_extract_params(recipe, &width, &height, &policy); });
  EXPECT_NE(message.find("the bundle's /recipe says pooling 'avg:3y'"), std::string::npos)
      << message;
  EXPECT_EQ(message.find("--pool"), std::string::npos) << message;
}
