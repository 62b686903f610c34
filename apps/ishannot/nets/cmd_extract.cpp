#include "../commands.h"
#include "ishannot/error.h"

namespace ishannot::cli {

void add_extract_command(CLI::App& app, GlobalOptions& options) {
  auto* cmd = app.add_subcommand("extract", "(not implemented yet)");
  cmd->allow_extras();
  cmd->callback([] { throw Error("'ishannot extract' is not implemented yet"); });
}

}  // namespace ishannot::cli
