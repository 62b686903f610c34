// Placeholder until the issue that owns `ishannot baseline` lands; replaced by its implementation.
#include "commands.h"
#include "ishannot/error.h"

namespace ishannot::cli {

void add_baseline_command(CLI::App& app, GlobalOptions& options) {
  auto* cmd = app.add_subcommand("baseline", "(not implemented yet)");
  cmd->allow_extras();
  cmd->callback([] { throw Error("'ishannot baseline' is not implemented yet"); });
}

}  // namespace ishannot::cli
