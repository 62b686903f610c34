// Placeholder until the issue that owns `ishannot dataset` lands; replaced by its implementation.
#include "commands.h"
#include "ishannot/error.h"

namespace ishannot::cli {

void add_dataset_command(CLI::App& app, GlobalOptions& options) {
  auto* cmd = app.add_subcommand("dataset", "(not implemented yet)");
  cmd->allow_extras();
  cmd->callback([] { throw Error("'ishannot dataset' is not implemented yet"); });
}

}  // namespace ishannot::cli
