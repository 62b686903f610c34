#pragma once
// The paper's evaluation protocol on stored features, shared by `ishannot evaluate` and `demo`:
// for every stage range, the top-k terms (select_terms), a grouped k-fold by gene (grouped_kfold);
// for every requested layer and their concatenation, one Gram matrix per stage range (gram.h) —
// or one per outer fold when each fold reads its own store (FoldStores, TL+MTL);
// for every term and outer fold, C chosen by inner grouped CV on the training genes only (pooled
// inner out-of-fold AUC, ties to the smaller C), then the under-sampling ensemble (ensemble.h)
// trained on the training genes and evaluated on the test genes (metrics.h).
//
// Bad input is skipped with a reason (EvaluationResult::skipped), never a crash, a hang or a NaN:
// dataset images without features (and store ids the dataset lacks), NaN/Inf features, features
// too large for the Gram (overflow), all-zero feature rows, a stage range with fewer genes than
// folds, a term whose positives come from a single gene, a training fold without positives or
// negatives, a test fold where a metric is undefined, a (term, fold) whose classifier gave
// non-finite scores. Routine choices (C fell back to the default) are notes
// (EvaluationResult::notes), not skips. Errors (nothing to evaluate): a requested stage range
// the dataset lacks, no stage range with enough genes for the folds, no image with features.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "ishannot/common/error.h"
#include "ishannot/common/progress.h"
#include "ishannot/common/provenance.h"
#include "ishannot/data/dataset.h"
#include "ishannot/data/splits.h"
#include "ishannot/data/terms.h"
#include "ishannot/eval/bags.h"
#include "ishannot/eval/groups.h"
#include "ishannot/eval/metrics.h"
#include "ishannot/eval/protocol.h"
#include "ishannot/eval/term_fit.h"
#include "ishannot/features/feature_store.h"
#include "ishannot/learn/attention_mil.h"
#include "ishannot/learn/ensemble.h"
#include "ishannot/learn/gram.h"
#include "ishannot/learn/kernel_pca.h"

namespace ishannot {

/// Where metrics are computed: per image (the paper), per gene x stage-range group (BDGP's unit:
/// the images' out-of-fold predictions aggregated by a GroupRule, groups.h), or both.
enum class EvaluationLevel { kImage, kGroup, kBoth };
/// "image" | "group" | "both"; Error otherwise.
EvaluationLevel parse_evaluation_level(const std::string& name);
std::string evaluation_level_name(EvaluationLevel level);

struct EvaluationParams {
  std::string method = "TL";              ///< label of the feature method in the outputs
  std::vector<std::string> layers;        ///< layers to evaluate; empty = every layer in the store
  bool concatenate = true;                ///< also the concatenation of the layers (when >= 2)
  std::vector<std::string> stage_ranges;  ///< empty = all of the dataset's except "1-3" (paper)
  TermSelectionParams terms;              ///< top-k terms per stage range (k = 10)
  int folds = 5;                          ///< outer grouped k-fold
  /// Per (term, fold): C by inner grouped CV on the training genes (c_grid, inner_folds,
  /// inner_models), then the M-member ensemble (fit.ensemble; its logistic.C is the fallback C).
  TermFitParams fit;
  Preprocessing preprocessing = Preprocessing::kL2;
  GramParams gram;
  uint64_t seed = 1234;  ///< drives folds, member samples and attention-MIL draws
  EvaluationLevel level = EvaluationLevel::kImage;  ///< group: metrics named group_auc, ...
  GroupRule group_rule = GroupRule::kMean;          ///< how a group's image scores combine
  /// kBag: learn from gene x stage-range bags (eval/bags.h) instead of images; needs level kGroup
  /// (the metrics are group_*); max/meanmax pooling is not defined with standardise.
  EvaluationUnit unit = EvaluationUnit::kImage;
  BagPool bag_pool = BagPool::kMean;  ///< how a bag's image vectors pool (unit kBag)
  /// bag_pool kAttention: the image coordinates (kernel PCA of each outer fold's training images)
  /// and the MIL model (its draws derive from seed per stage range and fold).
  KernelPcaParams pca;
  AttentionMilParams attention;
  /// kGroupsShuffled: the literature's looser comparison protocol (protocol.h): stage ranges
  /// pooled into one ("all"), gene x stage groups split at random. A store of a fine-tuned net
  /// (finetune_genes) is refused: its genes would be on both sides.
  EvaluationProtocol protocol = EvaluationProtocol::kGeneGrouped;
  std::string check() const;
};

/// One value of the long-form results table.
struct MetricRow {
  std::string method, layer, stage_range, term;
  int fold = 0;
  std::string metric;  ///< auc, accuracy, sensitivity, specificity, C, test_positives, ...
  double value = 0;
};

/// An out-of-fold prediction of one image for one term.
struct PredictionRow {
  std::string id, gene, stage_range, layer, term;
  int fold = 0;
  int label = 0;
  double score = 0;  ///< ensemble mean probability
  int vote = 0;      ///< ensemble majority vote
  int votes = 0;     ///< members voting positive
  int members = 0;   ///< ensemble size
};

/// An out-of-fold prediction of one gene x stage-range group for one term (evaluate --level
/// group|both): its images' predictions aggregated by the group rule. A gene is never split across
/// folds, so a group's images share a fold.
struct GroupPredictionRow {
  std::string gene, stage_range, layer, term;
  int fold = 0;
  int label = 0;     ///< the group's label (any image carries the term)
  double score = 0;  ///< aggregated score
  int vote = 0;      ///< aggregated label
  int images = 0;
};

/// Something not evaluated, and why. Empty fields: applies to all (e.g. every term).
struct SkipRow {
  std::string layer, stage_range, term;
  int fold = -1;  ///< -1: every fold
  std::string reason;
};

/// Mean +- std of one metric: over terms (per-term means over folds) and over folds (per-fold
/// means over terms), as the paper reports them; over_terms.count terms were averaged.
struct SummaryRow {
  std::string method, layer, stage_range, metric;
  MeanStd over_terms, over_folds;
  int terms_requested = 0;  ///< the top-k asked for (a cell over fewer than half is marked)
  int test_images = 0;      ///< distinct images scored for this layer and stage range
};

struct EvaluationResult {
  std::vector<MetricRow> metrics;
  std::vector<PredictionRow> predictions;
  std::vector<GroupPredictionRow> group_predictions;  ///< with level group or both
  std::vector<SkipRow> skipped;  ///< what was not evaluated, and why (skipped.tsv)
  std::vector<SkipRow> notes;    ///< routine choices, e.g. C fell back to the default (run.json)
  std::vector<SummaryRow> summary;
  std::map<std::string, double> seconds;  ///< timings: "gram/<stage>/<layer>", "total", ...
  std::vector<std::string> layers;        ///< evaluated layer configurations, in order
  std::vector<std::string> stage_ranges;  ///< evaluated stage ranges, in order
};

/// The error of evaluate and train when no image of `dataset` has features in `store`: it names
/// the first ids the dataset expects and the first the store holds (a path-prefixed store...).
Error no_matching_ids(const Dataset& dataset, const FeatureStoreReader& store);

/// Runs the protocol. Throws Error for unusable input as a whole (no requested layer in the
/// store, no dataset image with features, invalid params); everything finer is skipped.
EvaluationResult run_evaluation(const Dataset& dataset, const FeatureStoreReader& store,
                                const EvaluationParams& params, const Reporter& reporter = {});

/// The store outer fold `fold` (0-based) of `stage_range` reads its features from, for its
/// training and test images alike. TL+MTL gives each fold its own store, extracted from a net
/// fine-tuned on that fold's training genes only (`finetune --fold F/K`), so TL and TL+MTL are
/// compared on identical folds without test genes reaching fine-tuning. The references must stay
/// valid during run_evaluation; returning the same store for several folds reads it once.
using FoldStores =
    std::function<const FeatureStoreReader&(const std::string& stage_range, int fold)>;

/// The protocol with one store per (stage range, fold). An image is evaluated when every fold
/// store of its stage range holds it (the others are dropped and reported), so the folds are the
/// same whatever the stores. Leakage guard: a store whose `finetune_genes` attribute (written by
/// `extract --model`) names a gene of the fold's test genes is an Error naming the store, the
/// fold and the gene — in the one-store form too, where every fold would use that net.
EvaluationResult run_evaluation(const Dataset& dataset, const FoldStores& stores,
                                const EvaluationParams& params, const Reporter& reporter = {});

/// Mean +- std rows from metric rows (used by run_evaluation; exposed for tests and reports).
std::vector<SummaryRow> summarise(const std::vector<MetricRow>& metrics);

/// The paper's Table 2 as Markdown: one row per metric x method x layer, one column per stage
/// range, cells "mean ± std (T/K terms, N images)" over terms, where T terms of the K requested
/// were averaged over N test images; a cell with T < K/2 is marked " *" (footnote below).
std::string summary_table(const EvaluationResult& result);

/// Adds the group level to a result (run_evaluation does it when params.level asks): group
/// predictions from the image predictions, metrics group_auc, group_accuracy, group_sensitivity,
/// group_specificity, group_test_positives, group_test_negatives per layer, stage range, term and
/// fold; with level kGroup the image-level auc/accuracy/sensitivity/specificity rows are dropped.
void add_group_level(EvaluationResult& result, const EvaluationParams& params);

/// Writes DIR/metrics.tsv (long form: method, layer, stage_range, stage_order, term, fold, metric,
/// value), DIR/summary.tsv, DIR/summary.md, DIR/predictions.tsv, DIR/roc.tsv (pooled out-of-fold
/// ROC points per layer, stage range and term), DIR/group_predictions.tsv (group level only),
/// DIR/skipped.tsv (method, layer, stage_range, stage_order, term, fold — a number or empty —,
/// reason) and DIR/run.json (`provenance`: tool version, command line, dataset, features, the
/// stores' attributes (store_provenance_entries); the routine notes; the list of files).
/// All or nothing: the files are written into DIR.partial/ first; only when all are written do
/// they replace DIR's (a new DIR: one rename; an existing one: its run.json is removed first and
/// the new run.json, the marker of a complete run, is moved in last). A failure leaves DIR as it
/// was and removes DIR.partial; a stale DIR.partial from a killed run is removed first.
void write_evaluation_outputs(const std::string& dir, const EvaluationResult& result,
                              const EvaluationParams& params, const Provenance& provenance);

}  // namespace ishannot
