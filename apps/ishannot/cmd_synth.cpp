// Placeholder until the issue that owns `ishannot synth` lands; replaced by its implementation.
#include "commands.h"
#include "ishannot/error.h"

namespace ishannot::cli {

void add_synth_command(CLI::App& app, GlobalOptions& options) {
  auto* cmd = app.add_subcommand("synth", "(not implemented yet)");
  cmd->allow_extras();
  cmd->callback([] { throw Error("'ishannot synth' is not implemented yet"); });
}

}  // namespace ishannot::cli
