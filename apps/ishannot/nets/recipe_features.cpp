// The CNN side of train and annotate (commands.h): the network to extract from, train's features
// computed with a recipe, annotate's features computed with the bundle's recipe.
#include <torch/torch.h>

#include "../options.h"
#include "cnn_commands.h"
#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/nets/annotate_source.h"
#include "ishannot/nets/finetune.h"

namespace ishannot::cli {

std::shared_ptr<Backbone> extraction_net(const std::string& backbone, const std::string& weights,
                                         const std::string& model, bool input_size_given,
                                         ExtractParams& params, const Reporter& reporter) {
  if (model.empty()) return load_backbone(backbone, weights);
  const FinetunedModel finetuned = load_finetuned_model(model, nullptr, weights);
  // Its provenance (the model file) and origin (stage range, genes seen: the store's
  // finetune_* attributes) come with the backbone from load_finetuned_model.
  auto net = finetuned.net->backbone_ptr();
  if (!input_size_given) params.input_size = finetuned.input_size;
  reporter.info("fine-tuned " + net->arch() + " from " + model + " (" + finetuned.stage_range +
                ", " + std::to_string(finetuned.terms.size()) + " terms)");
  return net;
}

std::unique_ptr<FeatureNet> extraction_feature_net(const std::string& backbone,
                                                   const std::string& weights,
                                                   const std::string& model, bool input_size_given,
                                                   ExtractParams& params,
                                                   const GlobalOptions& options,
                                                   const Reporter& reporter) {
  configure_cnn_process(options);
  return backbone_feature_net(
      extraction_net(backbone, weights, model, input_size_given, params, reporter));
}

void recipe_features_into(const Dataset& dataset, const RecipeOptions& recipe,
                          const std::map<std::string, std::string>& attributes,
                          const std::string& store_path, bool resume, const GlobalOptions& options,
                          const Reporter& reporter) {
  configure_cnn_process(options);
  ExtractParams params;
  params.layers = recipe.layers;
  params.input_size = recipe.input_size;
  params.pool = parse_pool_option(recipe.pool);
  params.batch = recipe.batch;
  params.resume = resume;
  params.provenance = provenance(options);
  params.extra_attributes = attributes;
  require_valid("train", params.check());
  const auto net =
      extraction_net(recipe.backbone, recipe.weights, recipe.model, true, params, reporter);
  const ExtractResult r = extract_features(dataset, *net, params, store_path, reporter);
  reporter.info("train: features of " + std::to_string(r.written + r.already_present) +
                " images in " + store_path);
}

std::unique_ptr<FeatureSource> bundle_network_source(const ModelBundle& bundle,
                                                     const std::string& weights,
                                                     Precision precision,
                                                     const GlobalOptions& options) {
  configure_cnn_process(options);
  return cnn_feature_source(bundle.recipe, weights, precision);
}

}  // namespace ishannot::cli
