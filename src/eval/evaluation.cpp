// The evaluation protocol (evaluation.h), as named steps: per stage range, match the dataset to the
// store rows, make the outer folds (data/folds.h), guard against leakage, compute the Grams of
// every layer configuration, then run every (term, fold) task (evaluation_task.cpp) in parallel.
#include "ishannot/eval/evaluation.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <mutex>
#include <set>
#include <sstream>
#include <unordered_map>

#include "detail/bag_stage.h"
#include "detail/evaluation_stage.h"
#include "detail/parallel.h"
#include "ishannot/common/error.h"
#include "ishannot/common/format.h"
#include "ishannot/common/seed.h"
#include "ishannot/data/folds.h"
#include "ishannot/features/store_attributes.h"

namespace ishannot {

std::string EvaluationParams::check() const {
  if (folds < 2) return "folds must be >= 2";
  if (auto e = fit.check(); !e.empty()) return e;
  if (auto e = terms.check(); !e.empty()) return e;
  if (unit == EvaluationUnit::kBag && level != EvaluationLevel::kGroup)
    return "the bag unit is evaluated on groups only (level group), not on images";
  if (unit == EvaluationUnit::kBag && bag_pool != BagPool::kMean &&
      preprocessing == Preprocessing::kStandardise)
    return "max, meanmax and attention bag pooling need preprocessing l2 or none, not standardise";
  if (unit == EvaluationUnit::kBag && bag_pool == BagPool::kAttention) {
    if (auto e = pca.check(); !e.empty()) return e;
    if (auto e = attention.check(); !e.empty()) return e;
  }
  return gram.check();
}

namespace {

using detail::EvaluationStage;
using detail::plural;
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// The stage ranges to evaluate: the requested ones (each must be in the dataset), else all
// present but 1-3 (the paper's).
std::vector<std::string> stages_to_evaluate(const Dataset& dataset,
                                            const EvaluationParams& params) {
  if (params.stage_ranges.size() == 1 && params.stage_ranges[0] == kPooledStageRange)
    return params.stage_ranges;  // groups-shuffled's pooled problem
  const std::vector<std::string> present = dataset.stage_ranges();
  std::string listed;
  for (const auto& s : present) listed += (listed.empty() ? "" : ", ") + s;
  for (const auto& s : params.stage_ranges)
    if (std::find(present.begin(), present.end(), s) == present.end())
      throw file_error(dataset.source, "no image of stage range " + s + " (the dataset has " +
                                           (listed.empty() ? std::string("none") : listed) + ")");
  std::vector<std::string> stages = params.stage_ranges;
  if (stages.empty())
    for (const auto& s : present)
      if (s != "1-3") stages.push_back(s);
  if (stages.empty())
    throw file_error(dataset.source, "no stage range to evaluate (the dataset has " +
                                         (listed.empty() ? std::string("none") : listed) + ")");
  return stages;
}

// "a, b, c" of the first `count` values (", ..." when there are more).
std::string first_few(const std::vector<std::string>& values, size_t count = 3) {
  std::string out;
  for (size_t i = 0; i < values.size() && i < count; ++i) out += (i ? ", " : "") + values[i];
  return values.size() > count ? out + ", ..." : out;
}

// Every store met, indexed once: its id -> row map and the genes its net was fine-tuned on.
// Ids the dataset lacks are reported as a skip note.
class StoreIndex {
 public:
  struct Entry {
    std::unordered_map<std::string, int64_t> row;
    std::set<std::string> finetune_genes;
  };
  StoreIndex(const Dataset& dataset, const std::vector<std::string>& layers,
             std::vector<SkipRow>& skipped)
      : layers_(layers), skipped_(skipped) {
    for (const auto& image : dataset.images) dataset_ids_.insert(image.id);
  }

  const Entry& operator()(const FeatureStoreReader& store) {
    auto [it, fresh] = entries_.try_emplace(&store);
    if (fresh) index(store, it->second);
    return it->second;
  }

 private:
  void index(const FeatureStoreReader& store, Entry& entry) {
    for (const auto& l : layers_) store.dim(l);  // Error naming the file and the known layers
    for (int64_t r = 0; r < store.rows(); ++r)
      entry.row.emplace(store.ids()[static_cast<size_t>(r)], r);
    int extra = 0;
    std::string first;
    for (const auto& id : store.ids())
      if (!dataset_ids_.count(id) && extra++ == 0) first = id;
    if (extra > 0)
      skipped_.push_back({"", "", "", -1,
                          plural(extra, "feature row") + " of " + store.path() +
                              " with ids the dataset lacks (ignored; first: " + first + ")"});
    const auto attributes = store.attributes();
    if (auto a = attributes.find(store_attr::kFinetuneGenes); a != attributes.end()) {
      std::istringstream lines(a->second);
      for (std::string gene; std::getline(lines, gene);)
        if (!gene.empty()) entry.finetune_genes.insert(gene);
    }
  }

  std::vector<std::string> layers_;
  std::vector<SkipRow>& skipped_;
  std::set<std::string> dataset_ids_;
  std::map<const FeatureStoreReader*, Entry> entries_;
};

// The stores of one stage range: one per outer fold, some of them the same.
struct StageStores {
  std::vector<const FeatureStoreReader*> of_fold;   // per fold
  std::vector<const FeatureStoreReader*> distinct;  // each once, in fold order
};

StageStores stage_stores(const FoldStores& stores, const std::string& stage, int folds) {
  StageStores out;
  for (int f = 0; f < folds; ++f) {
    const FeatureStoreReader* s = &stores(stage, f);
    out.of_fold.push_back(s);
    if (std::find(out.distinct.begin(), out.distinct.end(), s) == out.distinct.end())
      out.distinct.push_back(s);
  }
  return out;
}

// The stage range's images that every one of its stores holds; the others are reported.
// Returns false when the stage range has images but none with features everywhere.
bool match_images(const Dataset& dataset, EvaluationStage& stage, const StageStores& stores,
                  StoreIndex& index, std::vector<SkipRow>& skipped) {
  stage.matched.source = dataset.source;
  std::vector<std::pair<int, std::string>> missing(stores.distinct.size());  // count, first id
  bool any = false;
  for (const auto& image : dataset.images) {
    if (image.stage_range != stage.name) continue;
    any = true;
    bool everywhere = true;
    for (size_t s = 0; s < stores.distinct.size(); ++s)
      if (!index(*stores.distinct[s]).row.count(image.id)) {
        everywhere = false;
        if (missing[s].first++ == 0) missing[s].second = image.id;
      }
    if (everywhere) stage.matched.images.push_back(image);
  }
  for (size_t s = 0; s < stores.distinct.size(); ++s)
    if (missing[s].first > 0)
      skipped.push_back({"", stage.name, "", -1,
                         plural(missing[s].first, "image") + " without features in " +
                             stores.distinct[s]->path() + " (dropped; first: " + missing[s].second +
                             ")"});
  return !(any && stage.matched.images.empty());
}

// Leakage guard: no test gene of a fold may have reached the fine-tuning of its store's net.
void check_no_leakage(const EvaluationStage& stage, const StageStores& stores, StoreIndex& index,
                      int folds) {
  for (size_t i = 0; i < stage.genes.size(); ++i) {
    const int f = stage.folds[i];
    const auto* s = stores.of_fold[static_cast<size_t>(f)];
    const auto& gene = stage.genes[i];
    if (index(*s).finetune_genes.count(gene))
      throw file_error(s->path(), "its net was fine-tuned on gene " + gene +
                                      ", a test gene of fold " + std::to_string(f) +
                                      " of stage range " + stage.name +
                                      ": its features would leak the test genes (fine-tune with "
                                      "--fold " +
                                      std::to_string(f) + "/" + std::to_string(folds) +
                                      " and the same --seed, one store per fold)");
  }
}

// Terms grouped CV cannot evaluate in any fold: no positive, or positives of a single gene.
void mark_untestable_terms(EvaluationStage& stage, std::vector<SkipRow>& skipped) {
  const auto& problem = stage.problem;
  const int n_terms = static_cast<int>(problem.terms.size());
  stage.skip_term.assign(static_cast<size_t>(n_terms), 0);
  for (int t = 0; t < n_terms; ++t) {
    std::set<std::string> genes;
    for (int i = 0; i < problem.rows(); ++i)
      if (problem.label(i, t)) genes.insert(stage.genes[static_cast<size_t>(i)]);
    if (genes.size() >= 2) continue;
    stage.skip_term[static_cast<size_t>(t)] = 1;
    skipped.push_back({"", stage.name, problem.terms[static_cast<size_t>(t)], -1,
                       genes.empty() ? "term has no positive image"
                                     : "positives come from a single gene (" + *genes.begin() +
                                           "): grouped CV cannot both train and test it"});
  }
}

// Matches, splits and checks one stage range. Returns false (with a skip note) when it cannot be
// evaluated.
bool prepare_stage(const Dataset& dataset, EvaluationStage& stage, const StageStores& stores,
                   StoreIndex& index, const EvaluationParams& params, EvaluationResult& result) {
  if (!match_images(dataset, stage, stores, index, result.skipped)) return false;
  try {
    OuterFoldParams fold_params;
    fold_params.folds = params.folds;
    fold_params.seed = params.seed;
    fold_params.terms = params.terms;
    OuterFolds outer = outer_folds(stage.matched, stage.name, fold_params);
    stage.problem = std::move(outer.problem);
    stage.genes = std::move(outer.genes);
    stage.folds = std::move(outer.fold);
  } catch (const Error& e) {
    std::set<std::string> genes;
    for (const auto& image : stage.matched.images) genes.insert(image.gene);
    result.skipped.push_back(
        {"", stage.name, "", -1,
         static_cast<int>(genes.size()) < params.folds
             ? "stage range skipped: " + plural(static_cast<int>(genes.size()), "gene") +
                   " with features, fewer than the " + std::to_string(params.folds) +
                   " folds (--folds)"
             : std::string("stage range skipped: ") + e.what()});
    return false;
  }
  check_no_leakage(stage, stores, index, params.folds);
  mark_untestable_terms(stage, result.skipped);
  return true;
}

// Gram matrices of one stage range per layer configuration (each layer, and their sum for the
// concatenation), with the rows holding NaN/Inf flagged per configuration. Each store is read once
// per layer; with one store per fold, fold f's Gram comes from fold f's store.
struct StageGrams {
  std::map<std::string, std::vector<Eigen::MatrixXd>> grams;  // one, or one per fold
  std::map<std::string, std::vector<uint8_t>> bad;
};

// The store row of every problem row.
std::vector<int64_t> store_rows(const EvaluationStage& stage,
                                const std::unordered_map<std::string, int64_t>& row) {
  std::vector<int64_t> rows;
  for (int i = 0; i < stage.problem.rows(); ++i)
    rows.push_back(
        row.at(stage.matched
                   .images[static_cast<size_t>(stage.problem.image_indices[static_cast<size_t>(i)])]
                   .id));
  return rows;
}

GramResult layer_gram(const EvaluationStage& stage, const StageStores& stores, StoreIndex& index,
                      const std::string& layer, const EvaluationParams& params,
                      const Reporter& reporter) {
  const int n = stage.problem.rows();
  auto rows_in = [&](const FeatureStoreReader& s) { return store_rows(stage, index(s).row); };
  if (stores.distinct.size() == 1)
    return compute_gram(*stores.distinct[0], layer, rows_in(*stores.distinct[0]),
                        params.preprocessing, stage.folds, params.folds, params.gram, reporter);
  GramResult combined;
  combined.grams.resize(static_cast<size_t>(params.folds));
  combined.non_finite.assign(static_cast<size_t>(n), 0);
  combined.overflow.assign(static_cast<size_t>(n), 0);
  combined.all_zero.assign(static_cast<size_t>(n), 0);
  for (const auto* s : stores.distinct) {
    auto g = compute_gram(*s, layer, rows_in(*s), params.preprocessing, stage.folds, params.folds,
                          params.gram, reporter);
    combined.seconds += g.seconds;
    for (int i = 0; i < n; ++i) {
      const auto r = static_cast<size_t>(i);
      combined.non_finite[r] |= g.non_finite[r];
      combined.overflow[r] |= g.overflow[r];
      combined.all_zero[r] |= g.all_zero[r];
    }
    for (int f = 0; f < params.folds; ++f)
      if (stores.of_fold[static_cast<size_t>(f)] == s)
        combined.grams[static_cast<size_t>(f)] =
            g.grams.size() > 1 ? g.grams[static_cast<size_t>(f)] : g.grams[0];
  }
  return combined;
}

StageGrams stage_grams(const EvaluationStage& stage, const StageStores& stores, StoreIndex& index,
                       const std::vector<std::string>& layers, const std::string& concat_name,
                       const EvaluationParams& params, const Reporter& reporter,
                       EvaluationResult& result) {
  const int n = stage.problem.rows();
  StageGrams out;
  std::vector<Eigen::MatrixXd> concat_grams;
  std::vector<uint8_t> concat_bad(static_cast<size_t>(n), 0);
  for (const auto& layer : layers) {
    GramResult g = layer_gram(stage, stores, index, layer, params, reporter);
    result.seconds["gram/" + stage.name + "/" + layer] = g.seconds;
    std::vector<uint8_t> bad(static_cast<size_t>(n), 0);
    // Rows the Gram cannot use, by kind: each dropped for this layer and the concatenation.
    for (const auto& kind : unusable_rows(g, bad)) {
      for (int i : kind.rows) concat_bad[static_cast<size_t>(i)] = 1;
      const std::string first =
          stage.matched
              .images[static_cast<size_t>(
                  stage.problem.image_indices[static_cast<size_t>(kind.rows.front())])]
              .id;
      result.skipped.push_back({layer, stage.name, "", -1,
                                plural(static_cast<int>(kind.rows.size()), "image") + kind.what +
                                    " (dropped; first: " + first + ")"});
    }
    if (!concat_name.empty()) {
      if (concat_grams.empty())
        concat_grams = g.grams;
      else
        for (size_t f = 0; f < g.grams.size(); ++f) concat_grams[f] += g.grams[f];
    }
    out.grams[layer] = std::move(g.grams);
    out.bad[layer] = std::move(bad);
  }
  if (!concat_name.empty()) {
    out.grams[concat_name] = std::move(concat_grams);
    out.bad[concat_name] = std::move(concat_bad);
  }
  return out;
}

// Every (term, fold) task of one layer configuration, in parallel; results in task order.
void classify_config(const EvaluationStage& stage, const std::string& config,
                     std::vector<Eigen::MatrixXd>& grams, const std::vector<uint8_t>& bad,
                     const EvaluationParams& params, const Reporter& reporter,
                     EvaluationResult& result) {
  const auto start = Clock::now();
  if (params.preprocessing == Preprocessing::kL2)
    for (auto& k : grams) l2_normalise_gram(k);
  std::vector<std::pair<int, int>> tasks;
  for (int t = 0; t < static_cast<int>(stage.problem.terms.size()); ++t)
    if (!stage.skip_term[static_cast<size_t>(t)])
      for (int f = 0; f < params.folds; ++f) tasks.emplace_back(t, f);
  std::vector<detail::TaskOutput> outputs(tasks.size());
  detail::LoopErrors errors;
  std::mutex mutex;
  int64_t done = 0;
  const std::string label = "classify " + stage.name + " " + config;
#pragma omp parallel for schedule(dynamic)
  for (int64_t k = 0; k < static_cast<int64_t>(tasks.size()); ++k) {
    errors.run(k, [&] {
      const auto [t, f] = tasks[static_cast<size_t>(k)];
      const auto& gram = grams.size() > 1 ? grams[static_cast<size_t>(f)] : grams[0];
      outputs[static_cast<size_t>(k)] =
          detail::run_evaluation_task(gram, stage, bad, t, f, config, params);
      std::lock_guard<std::mutex> lock(mutex);
      reporter.report(label, ++done, static_cast<int64_t>(tasks.size()));
    });
  }
  errors.rethrow();
  for (auto& o : outputs) detail::append_output(result, std::move(o));
  grams.clear();
  grams.shrink_to_fit();
  result.seconds["classify/" + stage.name + "/" + config] = since(start);
  reporter.info(stage.name + " " + config + ": " + plural(static_cast<int>(tasks.size()), "task") +
                " in " + format_duration(since(start)));
}

// The bag level of one configuration (evaluation_bags.cpp), then the image level's tasks on bags.
void classify_bags(const Dataset& dataset, const EvaluationStage& stage, const StageStores& stores,
                   StoreIndex& index, const std::string& config,
                   const std::vector<std::string>& config_layers, StageGrams& grams,
                   const EvaluationParams& params, const Reporter& reporter,
                   EvaluationResult& result, detail::BagSizes& sizes) {
  const FeatureStoreReader& store = *stores.distinct[0];  // max pooling reads one store
  detail::BagProblem bag = detail::make_bag_problem(
      dataset, stage, config, grams.grams[config], grams.bad[config],
      {&store, store_rows(stage, index(store).row), config_layers}, params, result.skipped);
  for (size_t b = 0; b < bag.bags.rows.size(); ++b)
    sizes[{config, stage.name, bag.stage.genes[b]}] = static_cast<int>(bag.bags.rows[b].size());
  if (params.bag_pool == BagPool::kAttention)
    detail::classify_attention(bag, config, std::move(grams.grams[config]), params, reporter,
                               result);
  grams.grams[config].clear();
  if (params.bag_pool != BagPool::kAttention)
    classify_config(bag.stage, config, bag.grams, bag.bad, params, reporter, result);
}

// Says what each summary cell averaged: the top-k requested and the distinct images scored.
void add_summary_counts(EvaluationResult& result, const EvaluationParams& params) {
  std::map<std::pair<std::string, std::string>, std::set<std::string>> tested;
  for (const auto& p : result.predictions) tested[{p.layer, p.stage_range}].insert(p.id);
  std::map<std::pair<std::string, std::string>, std::map<std::string, int>> bags;  // bag unit
  for (const auto& g : result.group_predictions) bags[{g.layer, g.stage_range}][g.gene] = g.images;
  for (auto& row : result.summary) {
    row.terms_requested = params.terms.top_k;
    row.test_images = static_cast<int>(tested[{row.layer, row.stage_range}].size());
    if (params.unit == EvaluationUnit::kBag)
      for (const auto& [gene, images] : bags[{row.layer, row.stage_range}])
        row.test_images += images;
  }
}

}  // namespace

EvaluationResult run_evaluation(const Dataset& dataset, const FeatureStoreReader& store,
                                const EvaluationParams& params, const Reporter& reporter) {
  return run_evaluation(
      dataset, [&store](const std::string&, int) -> const FeatureStoreReader& { return store; },
      params, reporter);
}

EvaluationResult run_evaluation(const Dataset& dataset, const FoldStores& stores,
                                const EvaluationParams& params, const Reporter& reporter) {
  if (auto problem = params.check(); !problem.empty()) throw Error("evaluate: " + problem);
  if (params.protocol == EvaluationProtocol::kGroupsShuffled)
    return detail::run_groups_shuffled(dataset, stores, params, reporter);
  const auto start = Clock::now();
  EvaluationResult result;
  const std::vector<std::string> stages = stages_to_evaluate(dataset, params);

  // Layers (default: every layer of the first store), and their concatenation.
  std::vector<std::string> layers = params.layers;
  const FeatureStoreReader& first_store = stores(stages.front(), 0);
  if (layers.empty())
    for (const auto& l : first_store.layers()) layers.push_back(l.name);
  if (layers.empty()) throw file_error(first_store.path(), "the feature store has no layer");
  std::string concat_name;
  if (params.concatenate && layers.size() >= 2)
    for (const auto& l : layers) concat_name += (concat_name.empty() ? "" : "+") + l;
  result.layers = layers;
  if (!concat_name.empty()) result.layers.push_back(concat_name);

  StoreIndex index(dataset, layers, result.skipped);
  const auto& all_stages = stage_range_names();
  size_t matched_images = 0;
  detail::BagSizes bag_sizes;
  for (const auto& stage_name : stages) {
    EvaluationStage stage;
    stage.name = stage_name;
    stage.index = static_cast<uint64_t>(
        std::find(all_stages.begin(), all_stages.end(), stage_name) - all_stages.begin());
    const StageStores fold_stores = stage_stores(stores, stage_name, params.folds);
    const bool ready = prepare_stage(dataset, stage, fold_stores, index, params, result);
    matched_images += stage.matched.images.size();
    if (!ready) continue;
    result.stage_ranges.push_back(stage_name);
    StageGrams grams =
        stage_grams(stage, fold_stores, index, layers, concat_name, params, reporter, result);
    for (const auto& config : result.layers)
      if (params.unit == EvaluationUnit::kBag)
        classify_bags(dataset, stage, fold_stores, index, config,
                      config == concat_name ? layers : std::vector<std::string>{config}, grams,
                      params, reporter, result, bag_sizes);
      else
        classify_config(stage, config, grams.grams[config], grams.bad[config], params, reporter,
                        result);
  }
  if (matched_images == 0) throw no_matching_ids(dataset, first_store);
  if (result.stage_ranges.empty()) {
    // Every stage range was skipped (e.g. --folds larger than the genes): an error, not an
    // empty table.
    std::string why;
    for (const auto& s : result.skipped)
      if (s.term.empty() && s.layer.empty() && !s.stage_range.empty())
        why += (why.empty() ? "" : "; ") + s.stage_range + ": " + s.reason;
    throw file_error(dataset.source,
                     "nothing to evaluate: " + (why.empty() ? "no stage range" : why));
  }
  if (params.unit == EvaluationUnit::kBag)
    detail::finish_bag_level(result, params, bag_sizes);
  else if (params.level != EvaluationLevel::kImage)
    add_group_level(result, params);
  result.summary = summarise(result.metrics);
  add_summary_counts(result, params);
  result.seconds["total"] = since(start);
  return result;
}

// Nothing matched (evaluation.h): name the ids expected (the dataset's) and the ids found (the
// store's).
Error no_matching_ids(const Dataset& dataset, const FeatureStoreReader& store) {
  std::vector<std::string> expected;
  for (const auto& image : dataset.images) expected.push_back(image.id);
  return file_error(store.path(), "no image of dataset " + dataset.source +
                                      " has features in this store: the dataset's ids are " +
                                      first_few(expected) + "; the store's are " +
                                      (store.ids().empty() ? "none" : first_few(store.ids())) +
                                      " (ids are the image file names without extension)");
}

}  // namespace ishannot
