#pragma once
// The CNN part of the command line (apps/ishannot/nets/, libtorch) is a module,
// libishannot_cnn_cli.so beside the executable, loaded with dlopen only when a command needs a
// network: `ishannot --version`, `--help` and every torch-free command start without loading
// libtorch (its load alone cost 0.9 s per process). A build without libtorch has no module: the
// CNN commands and the CNN paths of train and annotate then say so in one line.
#include <memory>
#include <string>
#include <vector>

#include "commands.h"

namespace ishannot {
class FeatureNet;
struct ExtractParams;
}  // namespace ishannot

namespace ishannot::cli {

/// A CNN subcommand as the torch-free executable lists it in --help.
struct CnnCommand {
  const char* name;
  const char* description;  ///< the help line; the module registers the command with it
};

/// classify, demo, finetune, export (the one table of their names and help lines; extract is a
/// torch-free command that asks the module for a network only when it needs libtorch).
const std::vector<CnnCommand>& cnn_commands();
/// The help line of the CNN command `name`; ISHANNOT_ASSERT that it is one.
const char* cnn_command_description(const std::string& name);

/// Raised when ISHANNOT_CNN_MODULE or the build's layout changes: module and executable must
/// come from one build (they pass C++ objects to each other).
inline constexpr int kCnnModuleAbi = 3;

/// What the module provides (apps/ishannot/nets/cnn_module_entry.cpp fills it in).
struct CnnModule {
  int abi = 0;                    ///< kCnnModuleAbi of the module's build
  const char* version = nullptr;  ///< ISHANNOT_VERSION of the module's build
  /// Registers the real CNN subcommand `name` (one of cnn_commands()) on `app`.
  void (*add_command)(CLI::App& app, GlobalOptions& options, const std::string& name) = nullptr;
  /// train without --features: the recipe's features of `dataset` into `store_path`.
  void (*extract_recipe_features)(const Dataset& dataset, const RecipeOptions& recipe,
                                  const std::map<std::string, std::string>& attributes,
                                  const std::string& store_path, bool resume,
                                  const GlobalOptions& options, const Reporter& reporter) = nullptr;
  /// extract's network when the torch-free prepared ResNet50 cannot serve it (another backbone,
  /// a fine-tuned `model`, no prepared weights yet, a tap on avg_pool or fc1000): the backbone
  /// through libtorch (the module applies --threads to it). `params.input_size` becomes the
  /// model's unless `input_size_given`.
  std::unique_ptr<FeatureNet> (*extraction_net)(const std::string& backbone,
                                                const std::string& weights,
                                                const std::string& model, bool input_size_given,
                                                ExtractParams& params, const GlobalOptions& options,
                                                const Reporter& reporter) = nullptr;
  /// annotate without --features: the bundle's own network (weights: its new path, or "").
  std::unique_ptr<FeatureSource> (*bundle_feature_source)(const ModelBundle& bundle,
                                                          const std::string& weights,
                                                          Precision precision,
                                                          const GlobalOptions& options) = nullptr;
};

/// The module's file: $ISHANNOT_CNN_MODULE if set, else libishannot_cnn_cli.so beside the
/// running executable.
std::string cnn_module_path();
/// Whether that file exists (nothing is loaded).
bool cnn_module_available();
/// Loads the module on first use (later calls return the same one). Throws Error naming the file
/// and the reason: missing (a build without libtorch), unloadable (dlerror's line), or from
/// another build (abi/version differ).
const CnnModule& cnn_module();

}  // namespace ishannot::cli

/// The module's one exported symbol.
extern "C" const ishannot::cli::CnnModule* ishannot_cnn_module();
