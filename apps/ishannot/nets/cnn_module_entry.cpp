// The CNN module's entry point (../cnn_module.h): the table the executable calls through.
#include "../cnn_module.h"

#include "cnn_commands.h"
#include "ishannot/common/assert.h"
#include "ishannot/version.h"

namespace ishannot::cli {
namespace {

void add_command(CLI::App& app, GlobalOptions& options, const std::string& name) {
  if (name == "classify") return add_classify_command(app, options);
  if (name == "demo") return add_demo_command(app, options);
  if (name == "finetune") return add_finetune_command(app, options);
  if (name == "export") return add_export_command(app, options);
  ISHANNOT_ASSERT(false, "the CNN command table and the module disagree on " + name);
}

}  // namespace
}  // namespace ishannot::cli

extern "C" const ishannot::cli::CnnModule* ishannot_cnn_module() {
  using namespace ishannot::cli;
  static const CnnModule module = {
      kCnnModuleAbi,        ISHANNOT_VERSION,       add_command,
      recipe_features_into, extraction_feature_net, bundle_network_source};
  return &module;
}
