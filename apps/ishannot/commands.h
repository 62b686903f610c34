#pragma once
// The `ishannot` command line: one file per subcommand (cmd_<name>.cpp), each defining one
// add_<name>_command() that registers its options and its callback. Only apps/ prints.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <map>
#include <string>

#include "ishannot/common/progress.h"

namespace ishannot::cli {

/// Options every subcommand shares (set before the subcommand runs).
struct GlobalOptions {
  int threads = 0;                ///< 0 = every CPU the process may use
  uint64_t seed = 1234;           ///< drives every random choice
  bool quiet = false;             ///< no progress, no info lines
  std::string progress = "auto";  ///< auto | bar | plain | none
  std::string command_line;       ///< the whole command, shell-quoted (provenance)
};

/// What every output records about how it was made: tool_version and created_by (the command
/// line). Feature stores, model bundles, run.json and reports all carry these two.
std::map<std::string, std::string> provenance(const GlobalOptions& options);

/// A Reporter that draws on stderr as the global options say (bar on a terminal, periodic
/// plain lines otherwise).
Reporter make_reporter(const GlobalOptions& options);

/// Applies --threads (0 = every CPU of the affinity mask) to OpenMP; returns the count.
int apply_threads(const GlobalOptions& options);
/// Applies --threads to OpenMP and libtorch (CNN commands only); returns the count.
int apply_torch_threads(const GlobalOptions& options);

// Commands that need no CNN (apps/ishannot/cmd_*.cpp; built with or without libtorch).
void add_synth_command(CLI::App& app, GlobalOptions& options);
void add_dataset_command(CLI::App& app, GlobalOptions& options);
void add_evaluate_command(CLI::App& app, GlobalOptions& options);
void add_baseline_command(CLI::App& app, GlobalOptions& options);
void add_report_command(CLI::App& app, GlobalOptions& options);
void add_merge_command(CLI::App& app, GlobalOptions& options);
void add_experiment_command(CLI::App& app, GlobalOptions& options);
// CNN commands (apps/ishannot/nets/cmd_*.cpp; only with libtorch).
void add_classify_command(CLI::App& app, GlobalOptions& options);
void add_extract_command(CLI::App& app, GlobalOptions& options);
void add_demo_command(CLI::App& app, GlobalOptions& options);
void add_finetune_command(CLI::App& app, GlobalOptions& options);

}  // namespace ishannot::cli
