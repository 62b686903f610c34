#pragma once
// The `ishannot` command line: one file per subcommand (cmd_<name>.cpp), each defining one
// add_<name>_command() that registers its options and its callback. Only apps/ prints.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "ishannot/progress.h"

namespace ishannot::cli {

/// Options every subcommand shares (set before the subcommand runs).
struct GlobalOptions {
  int threads = 0;                ///< 0 = all cores
  uint64_t seed = 1234;           ///< drives every random choice
  bool quiet = false;             ///< no progress, no info lines
  std::string progress = "auto";  ///< auto | bar | plain | none
};

/// A Reporter that draws on stderr as the global options say (bar on a terminal, periodic
/// plain lines otherwise).
Reporter make_reporter(const GlobalOptions& options);

/// Applies --threads to OpenMP.
void apply_threads(const GlobalOptions& options);
/// Applies --threads to OpenMP and libtorch (CNN commands only).
void apply_torch_threads(const GlobalOptions& options);

// Commands that need no CNN (apps/ishannot/cmd_*.cpp; built with or without libtorch).
void add_synth_command(CLI::App& app, GlobalOptions& options);
void add_dataset_command(CLI::App& app, GlobalOptions& options);
void add_evaluate_command(CLI::App& app, GlobalOptions& options);
void add_baseline_command(CLI::App& app, GlobalOptions& options);
// CNN commands (apps/ishannot/nets/cmd_*.cpp; only with libtorch).
void add_classify_command(CLI::App& app, GlobalOptions& options);
void add_extract_command(CLI::App& app, GlobalOptions& options);
void add_demo_command(CLI::App& app, GlobalOptions& options);
void add_finetune_command(CLI::App& app, GlobalOptions& options);

}  // namespace ishannot::cli
