#pragma once
// The `ishannot` command line: one file per subcommand (cmd_<name>.cpp), each defining one
// add_<name>_command() that registers its options and its callback. Only apps/ prints.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "ishannot/annotate/annotate.h"
#include "ishannot/annotate/model_bundle.h"
#include "ishannot/common/progress.h"
#include "ishannot/data/dataset.h"
#include "ishannot/features/precision.h"

namespace ishannot::cli {

/// Options every subcommand shares (set before the subcommand runs).
struct GlobalOptions {
  int threads = 0;                ///< 0 = every CPU the process may use
  uint64_t seed = 1234;           ///< drives every random choice
  bool quiet = false;             ///< no progress, no info lines
  std::string progress = "auto";  ///< auto | bar | plain | none
  std::string command_line;       ///< the whole command, shell-quoted (provenance)
};

/// What every output records about how it was made (common/provenance.h): the command line and
/// --seed; a command adds its inputs. Feature stores, model bundles, run.json and reports carry it.
Provenance provenance(const GlobalOptions& options);

/// A Reporter that draws on stderr as the global options say (bar on a terminal, periodic
/// plain lines otherwise). `clock` (seconds; default: the steady clock) times the ETA.
Reporter make_reporter(const GlobalOptions& options, std::function<double()> clock = {});

/// Applies --threads (0 = every CPU of the affinity mask) to OpenMP; returns the count.
int apply_threads(const GlobalOptions& options);

/// For the classifier stage (evaluate, train, demo) and every CNN command: glibc keeps freed
/// blocks for reuse instead of returning them to the system (no mmap'ed blocks, no trimming).
/// Every ensemble member allocates and frees m x m matrices (176 MB at m = 4,700); unmapped and
/// mapped again each time they cost page faults and zero fills: at paper size 124 s of system
/// time, 20 % of the run (measured with the same settings as MALLOC_MMAP_MAX_=0
/// MALLOC_TRIM_THRESHOLD_: 8 min 07 s -> 6 min 51 s, peak RSS 1.24 -> 1.36 GB;
/// docs/bench/classifier.md). A CNN command frees a few MB per batch in three threads (input
/// batch, feature maps, rows): 279k page faults and ~3 s of system time for 2,000 images with 2
/// threads before, ~47k after (docs/BENCHMARKS.md, stop 24). The process's RSS then stays at its
/// peak. `one_arena` (extract alone: a process that runs no classifier afterwards, whose OpenMP
/// threads would then contend for the one arena's lock — with it, the demo's attention MIL took
/// 16 s instead of ~8 s) also keeps every thread on glibc's main arena: a thread's
/// own arena is unmapped whenever all its memory is free, whatever the trim threshold, so the
/// decode thread's input batch (3.9 MB at 8 x 320 x 128) was faulted in again at every batch
/// (~8k of 39k page faults on bdgp-mini; 1 CPU bf16, 3 alternating runs: 3.80-3.97 s against
/// 3.86-4.06 s; docs/BENCHMARKS.md, stop 25). Nothing where the C library is not glibc.
void reuse_freed_memory(bool one_arena = false);

/// How `train` computes features when no --features store is given (the CNN path).
struct RecipeOptions {
  std::string backbone = "resnet50";
  std::string weights;  ///< "" = the setup's ResNet50
  std::string model;    ///< a fine-tuned model from `finetune` (TL+MTL features)
  std::string layers = "res4f";
  std::string input_size = "native";
  std::string pool = "4x10";
  int batch = 16;
};

// The CNN paths of train and annotate: forwarded to the CNN module (cnn_module.h), loaded on
// first use; Error when this build has none.
/// Extracts the recipe's features of `dataset` into `store_path` (resumable, like extract), with
/// `attributes` added to the store's root attributes (train records its recipe there).
void extract_recipe_features(const Dataset& dataset, const RecipeOptions& recipe,
                             const std::map<std::string, std::string>& attributes,
                             const std::string& store_path, bool resume,
                             const GlobalOptions& options, const Reporter& reporter);
/// annotate without --features: the bundle's own network (weights: its new path, or ""), its
/// forward pass in `precision` (features/precision.h).
std::unique_ptr<FeatureSource> bundle_feature_source(const ModelBundle& bundle,
                                                     const std::string& weights,
                                                     Precision precision,
                                                     const GlobalOptions& options);

// Commands that need no CNN (apps/ishannot/cmd_*.cpp; in ishannot_cli, which never loads
// libtorch). The CNN commands: apps/ishannot/nets/cnn_commands.h.
void add_synth_command(CLI::App& app, GlobalOptions& options);
void add_dataset_command(CLI::App& app, GlobalOptions& options);
void add_evaluate_command(CLI::App& app, GlobalOptions& options);
void add_baseline_command(CLI::App& app, GlobalOptions& options);
void add_report_command(CLI::App& app, GlobalOptions& options);
void add_merge_command(CLI::App& app, GlobalOptions& options);
void add_experiment_command(CLI::App& app, GlobalOptions& options);
void add_train_command(CLI::App& app, GlobalOptions& options);
void add_annotate_command(CLI::App& app, GlobalOptions& options);
void add_inspect_command(CLI::App& app, GlobalOptions& options);
void add_fetch_command(CLI::App& app, GlobalOptions& options);  // cmd_fetch.cpp
/// extract: torch-free for the default ResNet50 with prepared weights, else through the CNN
/// module (cmd_extract.cpp).
void add_extract_command(CLI::App& app, GlobalOptions& options);
void add_standardize_command(CLI::App& app, GlobalOptions& options);  // cmd_standardize.cpp
/// `standardize --data DATA --out OUT` with its defaults (fetch bdgp --standardize).
void run_standardize_command(const std::string& data, const std::string& out,
                             const GlobalOptions& options);

}  // namespace ishannot::cli
