// Placeholder until the issue that owns `ishannot finetune` lands; replaced by its implementation.
#include "../commands.h"
#include "ishannot/error.h"

namespace ishannot::cli {

void add_finetune_command(CLI::App& app, GlobalOptions& options) {
  auto* cmd = app.add_subcommand("finetune", "(not implemented yet)");
  cmd->allow_extras();
  cmd->callback([] { throw Error("'ishannot finetune' is not implemented yet"); });
}

}  // namespace ishannot::cli
