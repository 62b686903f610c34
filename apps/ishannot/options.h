#pragma once
// Options that several subcommands share, defined once: every command spells, parses, documents
// and validates them the same way (tests/apps/test_cli_conventions.cpp walks every --help).
//   --data, --out, --stages (comma list), --top-k/--view/--exclude (comma list, repeatable),
//   --fold F/K | --train-genes FILE, --pool GRID, --dtype float32|float16, --batch N,
//   --resume/--restart.
// A bad value is a UsageError: one line, exit code 2, like CLI11's own parse errors.
#include <CLI/CLI.hpp>
#include <map>
#include <string>
#include <vector>

#include "ishannot/common/error.h"
#include "ishannot/common/file_lock.h"
#include "ishannot/data/dataset.h"
#include "ishannot/data/folds.h"
#include "ishannot/data/terms.h"
#include "ishannot/eval/term_fit.h"
#include "ishannot/features/feature_store.h"
#include "ishannot/features/pool_grid.h"
#include "ishannot/features/precision.h"
#include "ishannot/learn/attention_mil.h"
#include "ishannot/learn/kernel_pca.h"

namespace ishannot::cli {

/// A bad command-line value found after parsing (exit code 2).
class UsageError : public Error {
 public:
  using Error::Error;
};

/// Throws UsageError("COMMAND: PROBLEM") when `problem` is not empty (for params.check()).
void require_valid(const std::string& command, const std::string& problem);

/// Runs `parse` and turns an Error it throws into a UsageError (for values parsed in callbacks).
template <class Parse>
auto parse_usage(Parse&& parse) -> decltype(parse()) {
  try {
    return parse();
  } catch (const UsageError&) {
    throw;
  } catch (const Error& e) {
    throw UsageError(e.what());
  }
}

/// --data: a manifest CSV, a BDGP-table folder or a folder of images; `note` (e.g. what the
/// command uses it for) follows the shared help text.
CLI::Option* add_data_option(CLI::App* cmd, std::string& data, bool required = true,
                             const std::string& note = "");
/// --out, with what it names.
CLI::Option* add_out_option(CLI::App* cmd, std::string& out, const std::string& help);
/// --stages A,B (comma list); `help` says what the default is.
CLI::Option* add_stages_option(CLI::App* cmd, std::vector<std::string>& stages,
                               const std::string& help);
/// Normalised stage ranges (UsageError for an unknown one).
std::vector<std::string> normalised_stages(const std::vector<std::string>& stages);

/// --top-k, --view, --exclude, --exclude-non-spatial: the paper's term selection.
struct TermOptions {
  int top_k = 10;
  std::string view = "lateral";  ///< lateral | dorsal | ventral | all
  std::vector<std::string> exclude;
  bool exclude_non_spatial = false;
  TermSelectionParams params() const;
};
void add_term_options(CLI::App* cmd, TermOptions& terms);

/// --fold F/K | --train-genes FILE: which genes a learner may see (the training genes of
/// evaluate's outer fold F, or a list). Mutually exclusive.
struct FoldOptions {
  std::string fold;         ///< "F/K" or ""
  std::string train_genes;  ///< gene-list file or ""
  bool given() const { return !fold.empty() || !train_genes.empty(); }
};
void add_fold_options(CLI::App* cmd, FoldOptions& folds, const std::string& learner);
/// The allowed genes of one stage range: the listed ones, or the genes outside fold F of the
/// folds evaluate makes with the same terms and seed (data/folds.h). Empty when !given().
std::vector<std::string> training_genes(const FoldOptions& folds, const Dataset& dataset,
                                        const std::string& stage_range,
                                        const TermSelectionParams& terms, uint64_t seed);
/// "training genes of outer fold F/K (seed S)" / "genes listed in FILE" / "all genes".
std::string describe_genes(const FoldOptions& folds, uint64_t seed);

/// --pool GRID (features/pool_grid.h); `help` says what the default is.
CLI::Option* add_pool_option(CLI::App* cmd, std::string& pool, const std::string& help);
PoolGrid parse_pool_option(const std::string& pool);

/// --dtype float32 | float16.
CLI::Option* add_dtype_option(CLI::App* cmd, std::string& dtype);
FeatureDtype parse_dtype_option(const std::string& dtype);

/// --precision fp32 | bf16: the CNN forward pass's arithmetic (features/precision.h); stored
/// features keep --dtype whichever it is.
CLI::Option* add_precision_option(CLI::App* cmd, std::string& precision);
Precision parse_precision_option(const std::string& precision);

/// --batch N (images per batch, >= 1).
CLI::Option* add_batch_option(CLI::App* cmd, int& batch, const std::string& help);

/// The classifier of evaluate and train (the same fit, eval/term_fit.h): --inner-folds, --c-grid,
/// --fallback-c, --models, --inner-models, --preprocess.
struct ClassifierOptions {
  int inner_folds = 3, models = 11, inner_models = 3;
  std::vector<double> c_grid = {1e-3, 1e-2, 1e-1, 1, 10, 100};
  double fallback_c = 1.0;
  std::string preprocess = "l2";
  /// The one map from these options to the classifier's parameters (evaluate, train).
  void apply(TermFitParams& fit) const;
};
void add_classifier_options(CLI::App* cmd, ClassifierOptions& classifier);

/// The learning unit of evaluate and train (eval/bags.h): --unit image|bag, --bag-pool
/// mean|max|meanmax.
struct UnitOptions {
  std::string unit = "image", bag_pool = "mean";
  std::string mil_loss = "balanced";  ///< attention MIL (--bag-pool attention)
  int mil_components = 64, mil_epochs = 200;
  /// Fills the attention-MIL part of evaluate's and train's parameters.
  void apply(KernelPcaParams& pca, AttentionMilParams& mil) const;
};
void add_unit_options(CLI::App* cmd, UnitOptions& unit);

/// --resume / --restart: every resumable command continues a compatible interrupted run by
/// default; --resume insists on one (error if there is none), --restart discards it.
struct ResumeOptions {
  bool resume = false;
  bool restart = false;
};
void add_resume_options(CLI::App* cmd, ResumeOptions& resume, const std::string& state);
/// Lock first, then restart: the one way every resumable command takes its output. Takes the
/// single-writer lock on `lock_path` (FileLock: a second run on the same output stops here,
/// naming the first's pid, before anything is deleted), then applies --resume/--restart under
/// it: --restart removes the files of `state` other than `lock_path` (the writer truncates that
/// one under the lock), --resume requires a non-empty one. Hold the result for the whole run.
struct ClaimedOutput {
  FileLock lock;
  bool resume = true;  ///< the run may continue what it finds
};
ClaimedOutput claim_output(const ResumeOptions& resume, const std::string& lock_path,
                           const std::vector<std::string>& state);

}  // namespace ishannot::cli
