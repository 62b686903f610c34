// Shared options (options.h): one definition, one spelling, one error style.
#include "options.h"

#include <algorithm>
#include <filesystem>

namespace ishannot::cli {

void require_valid(const std::string& command, const std::string& problem) {
  if (!problem.empty()) throw UsageError(command + ": " + problem);
}

CLI::Option* add_data_option(CLI::App* cmd, std::string& data, bool required,
                             const std::string& note) {
  auto* option =
      cmd->add_option("--data", data,
                      "dataset: manifest CSV, BDGP-table folder (standard_*.csv) or image folder" +
                          (note.empty() ? std::string() : "; " + note));
  if (required) option->required();
  return option;
}

CLI::Option* add_out_option(CLI::App* cmd, std::string& out, const std::string& help) {
  return cmd->add_option("--out", out, help)->required();
}

CLI::Option* add_stages_option(CLI::App* cmd, std::vector<std::string>& stages,
                               const std::string& help) {
  return cmd
      ->add_option("--stages", stages,
                   "stage ranges, comma-separated (or stages: 4-6,14 = 4-6,13-16; range:N = "
                   "BDGP's range number N): " +
                       help)
      ->delimiter(',');
}

std::vector<std::string> normalised_stages(const std::vector<std::string>& stages) {
  std::vector<std::string> out;
  for (const auto& s : stages) {
    const std::string name = parse_usage([&] { return normalise_stage_range(s); });
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  }
  return out;
}

TermSelectionParams TermOptions::params() const {
  TermSelectionParams p;
  p.top_k = top_k;
  p.view = view == "all" ? "" : view;
  p.exclude = exclude;
  if (exclude_non_spatial)
    for (const auto& t : non_spatial_terms()) p.exclude.push_back(t);
  return p;
}

void add_term_options(CLI::App* cmd, TermOptions& terms) {
  cmd->add_option("--top-k", terms.top_k, "terms per stage range (the most frequent)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--view", terms.view, "images of one view: lateral | dorsal | ventral | all")
      ->check(CLI::IsMember({"lateral", "dorsal", "ventral", "all"}))
      ->capture_default_str();
  cmd->add_option("--exclude", terms.exclude, "terms never selected, comma-separated (repeatable)")
      ->delimiter(',');
  cmd->add_flag("--exclude-non-spatial", terms.exclude_non_spatial,
                "also exclude ubiquitous, faint ubiquitous, maternal, subset, no staining");
}

void add_fold_options(CLI::App* cmd, FoldOptions& folds, const std::string& learner) {
  auto* fold = cmd->add_option("--fold", folds.fold,
                               learner +
                                   " the training genes of evaluate's outer fold F of K "
                                   "(F/K, e.g. 0/5; same data, terms and --seed)");
  auto* genes = cmd->add_option("--train-genes", folds.train_genes,
                                learner + " the genes listed in FILE (one per line, # comments)");
  fold->excludes(genes);
}

std::vector<std::string> training_genes(const FoldOptions& folds, const Dataset& dataset,
                                        const std::string& stage_range,
                                        const TermSelectionParams& terms, uint64_t seed) {
  if (!folds.train_genes.empty()) return read_gene_list(folds.train_genes);
  if (folds.fold.empty()) return {};
  const FoldSpec spec = parse_usage([&] { return parse_fold_spec(folds.fold); });
  OuterFoldParams params;
  params.folds = spec.folds;
  params.seed = seed;
  params.terms = terms;
  return outer_folds(dataset, stage_range, params).genes_outside(spec.fold);
}

std::string describe_genes(const FoldOptions& folds, uint64_t seed) {
  if (!folds.train_genes.empty()) return "genes listed in " + folds.train_genes;
  if (!folds.fold.empty())
    return "training genes of outer fold " + folds.fold + " (seed " + std::to_string(seed) + ")";
  return "all genes";
}

CLI::Option* add_pool_option(CLI::App* cmd, std::string& pool, const std::string& help) {
  return cmd
      ->add_option("--pool", pool,
                   help +
                       "; none | G | GhxGw (rows x columns, e.g. 2x5) | avg | max, optionally "
                       "prefixed avg: or max:")
      ->capture_default_str();
}

PoolGrid parse_pool_option(const std::string& pool) {
  return parse_usage([&] { return parse_pool_grid(pool); });
}

CLI::Option* add_dtype_option(CLI::App* cmd, std::string& dtype) {
  return cmd->add_option("--dtype", dtype, "stored values: float32 | float16")
      ->check(CLI::IsMember({"float32", "float16"}))
      ->capture_default_str();
}

FeatureDtype parse_dtype_option(const std::string& dtype) {
  if (dtype == "float32") return FeatureDtype::kFloat32;
  if (dtype == "float16") return FeatureDtype::kFloat16;
  throw UsageError("--dtype '" + dtype + "': expected float32 or float16");
}

CLI::Option* add_precision_option(CLI::App* cmd, std::string& precision) {
  return cmd
      ->add_option("--precision", precision,
                   "the network's arithmetic: fp32 | bf16 (bfloat16 where the CPU has it: "
                   "AVX512-BF16 or AMX; features differ by ~2 %)")
      ->check(CLI::IsMember({"fp32", "bf16"}))
      ->capture_default_str();
}

Precision parse_precision_option(const std::string& precision) {
  try {
    return parse_precision(precision);
  } catch (const Error& e) {
    throw UsageError(std::string("--precision: ") + e.what());
  }
}

CLI::Option* add_batch_option(CLI::App* cmd, int& batch, const std::string& help) {
  // Not CLI::PositiveNumber: its message names the range up to the largest double (309 digits).
  const CLI::Validator at_least_one(
      [](std::string& value) -> std::string {
        try {
          size_t used = 0;
          if (std::stoll(value, &used) >= 1 && used == value.size()) return "";
        } catch (const std::exception&) {
        }
        return "images per batch must be a whole number >= 1, not '" + value + "'";
      },
      "N >= 1");
  return cmd->add_option("--batch", batch, help)->check(at_least_one)->capture_default_str();
}

void add_classifier_options(CLI::App* cmd, ClassifierOptions& o) {
  cmd->add_option("--inner-folds", o.inner_folds, "inner grouped folds choosing C")
      ->capture_default_str();
  cmd->add_option("--c-grid", o.c_grid, "C values tried by inner CV (one value: fixed C)")
      ->delimiter(',');
  cmd->add_option("--fallback-c", o.fallback_c, "C when inner CV is impossible")
      ->capture_default_str();
  cmd->add_option("--models", o.models, "ensemble size M (odd)")->capture_default_str();
  cmd->add_option("--inner-models", o.inner_models, "ensemble size inside inner CV (odd)")
      ->capture_default_str();
  cmd->add_option("--preprocess", o.preprocess, "none | l2 | standardise")
      ->check(CLI::IsMember({"none", "l2", "standardise", "standardize"}))
      ->capture_default_str();
}

void ClassifierOptions::apply(TermFitParams& fit) const {
  fit.inner_folds = inner_folds;
  fit.c_grid = c_grid;
  fit.inner_models = inner_models;
  fit.ensemble.models = models;
  fit.ensemble.logistic.C = fallback_c;
}

void add_unit_options(CLI::App* cmd, UnitOptions& o) {
  cmd->add_option("--unit", o.unit,
                  "learn from images (the paper) or from gene x stage-range bags of images: "
                  "image | bag")
      ->check(CLI::IsMember({"image", "bag"}))
      ->capture_default_str();
  cmd->add_option("--bag-pool", o.bag_pool,
                  "how a bag's image features pool (--unit bag): mean | max | meanmax | "
                  "attention (a gated-attention MIL model learns it)")
      ->check(CLI::IsMember({"mean", "max", "meanmax", "attention"}))
      ->capture_default_str();
  cmd->add_option("--mil-loss", o.mil_loss,
                  "attention MIL: loss weighting per term, balanced (positive and negative bags "
                  "weigh the same) | none")
      ->check(CLI::IsMember({"balanced", "none"}))
      ->capture_default_str();
  cmd->add_option("--mil-components", o.mil_components,
                  "attention MIL: kernel-PCA coordinates per image (at most)")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  cmd->add_option("--mil-epochs", o.mil_epochs,
                  "attention MIL: epochs at most (early stopping on a validation split of the "
                  "training genes)")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
}

void UnitOptions::apply(KernelPcaParams& pca, AttentionMilParams& mil) const {
  pca.components = mil_components;
  mil.max_epochs = mil_epochs;
  mil.weighting = parse_mil_weighting(mil_loss);
}

void add_resume_options(CLI::App* cmd, ResumeOptions& resume, const std::string& state) {
  auto* r = cmd->add_flag("--resume", resume.resume,
                          "continue the interrupted run in " + state +
                              " (the default when it is compatible); error if there is none");
  auto* s = cmd->add_flag("--restart", resume.restart,
                          "discard an interrupted run's " + state + " and start over");
  r->excludes(s);
}

ClaimedOutput claim_output(const ResumeOptions& resume, const std::string& lock_path,
                           const std::vector<std::string>& state) {
  ClaimedOutput out;
  out.lock = FileLock(lock_path);
  auto present = [&](const std::string& path) {
    std::error_code ec;
    return std::filesystem::exists(path, ec) && (!std::filesystem::is_regular_file(path, ec) ||
                                                 std::filesystem::file_size(path, ec) > 0);
  };
  if (resume.restart) {
    for (const auto& path : state)
      if (path != lock_path) std::filesystem::remove(path);
    out.resume = false;
    return out;
  }
  if (resume.resume && std::none_of(state.begin(), state.end(), present))
    throw UsageError("--resume: there is no interrupted run to continue (" + state.front() + ")");
  return out;
}

}  // namespace ishannot::cli
