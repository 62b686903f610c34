// Placeholder until the issue that owns `ishannot demo` lands; replaced by its implementation.
#include "../commands.h"
#include "ishannot/error.h"

namespace ishannot::cli {

void add_demo_command(CLI::App& app, GlobalOptions& options) {
  auto* cmd = app.add_subcommand("demo", "(not implemented yet)");
  cmd->allow_extras();
  cmd->callback([] { throw Error("'ishannot demo' is not implemented yet"); });
}

}  // namespace ishannot::cli
