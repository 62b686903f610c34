#pragma once
// The CNN side of the command line (libtorch), built into the module libishannot_cnn_cli.so that
// the executable loads on demand (../cnn_module.h): the CNN subcommands and what train and
// annotate need from a network.
#include <memory>
#include <string>

#include "../commands.h"
#include "ishannot/nets/backbone.h"
#include "ishannot/nets/extract.h"

namespace ishannot::cli {

/// The process settings of a CNN command: --threads applied to OpenMP and libtorch, and a heap
/// that keeps per-batch buffers (cnn_process.cpp); returns the thread count.
int configure_cnn_process(const GlobalOptions& options);

/// The backbone to extract from: a fine-tuned `model` (recorded in the store with the genes it saw;
/// its input size unless `input_size_given`), or `backbone` with `weights` ("" = default).
std::shared_ptr<Backbone> extraction_net(const std::string& backbone, const std::string& weights,
                                         const std::string& model, bool input_size_given,
                                         ExtractParams& params, const Reporter& reporter);

/// The module's CnnModule::extraction_net: extraction_net as a FeatureNet (nets/extract.h), after
/// configure_cnn_process.
std::unique_ptr<FeatureNet> extraction_feature_net(const std::string& backbone,
                                                   const std::string& weights,
                                                   const std::string& model, bool input_size_given,
                                                   ExtractParams& params,
                                                   const GlobalOptions& options,
                                                   const Reporter& reporter);

// The module's implementations behind commands.h's extract_recipe_features and
// bundle_feature_source (other names: the executable defines those two as forwarders).
void recipe_features_into(const Dataset& dataset, const RecipeOptions& recipe,
                          const std::map<std::string, std::string>& attributes,
                          const std::string& store_path, bool resume, const GlobalOptions& options,
                          const Reporter& reporter);
std::unique_ptr<FeatureSource> bundle_network_source(const ModelBundle& bundle,
                                                     const std::string& weights,
                                                     Precision precision,
                                                     const GlobalOptions& options);

// The CNN subcommands (apps/ishannot/nets/cmd_*.cpp); help lines from cnn_command_description.
void add_classify_command(CLI::App& app, GlobalOptions& options);
void add_demo_command(CLI::App& app, GlobalOptions& options);
void add_finetune_command(CLI::App& app, GlobalOptions& options);
void add_export_command(CLI::App& app, GlobalOptions& options);

}  // namespace ishannot::cli
