// Placeholder until the issue that owns `ishannot evaluate` lands; replaced by its implementation.
#include "commands.h"
#include "ishannot/error.h"

namespace ishannot::cli {

void add_evaluate_command(CLI::App& app, GlobalOptions& options) {
  auto* cmd = app.add_subcommand("evaluate", "(not implemented yet)");
  cmd->allow_extras();
  cmd->callback([] { throw Error("'ishannot evaluate' is not implemented yet"); });
}

}  // namespace ishannot::cli
