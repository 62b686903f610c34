// The evaluation protocol (evaluation.h): data/store matching, Grams per stage range, then one
// task per (term, outer fold) with inner-CV model selection and the under-sampling ensemble.
#include "ishannot/eval/evaluation.h"
#include "detail/parallel.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <mutex>
#include <set>
#include <sstream>
#include <unordered_map>

#include "ishannot/common/error.h"
#include "ishannot/common/seed.h"
#include "ishannot/data/folds.h"

namespace ishannot {

std::string EvaluationParams::check() const {
  if (folds < 2) return "folds must be >= 2";
  if (inner_folds < 2) return "inner folds must be >= 2";
  if (c_grid.empty()) return "the C grid is empty";
  for (double c : c_grid)
    if (!(c > 0) || !std::isfinite(c)) return "C values must be positive";
  if (inner_models < 1 || inner_models % 2 == 0) return "inner models must be odd and >= 1";
  if (auto e = ensemble.check(); !e.empty()) return e;
  if (auto e = terms.check(); !e.empty()) return e;
  return gram.check();
}

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// One stage range's problem, matched to store rows.
struct Stage {
  std::string name;
  uint64_t index = 0;  // for seeds
  StageProblem problem;
  std::vector<std::string> genes;  // per problem row
  std::vector<int> folds;          // per problem row
  std::vector<uint8_t> skip_term;  // per term: skipped for every fold (single gene...)
  Dataset matched;                 // the stage range's images with features in all its stores
};

struct TaskOutput {
  std::vector<MetricRow> metrics;
  std::vector<PredictionRow> predictions;
  std::vector<SkipRow> skipped;
};

std::string plural(int n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

// Chooses C by inner grouped CV on the training rows: pooled inner out-of-fold AUC.
double choose_c(const Eigen::MatrixXd& gram, const Stage& stage, const std::vector<uint8_t>& y,
                const std::vector<int>& train, uint64_t seed, const EvaluationParams& params,
                std::string& note) {
  std::vector<double> grid = params.c_grid;
  std::sort(grid.begin(), grid.end());
  if (grid.size() == 1) return grid[0];
  std::vector<int> inner;
  try {
    GroupedSplitParams split;
    split.folds = params.inner_folds;
    split.seed = seed;
    inner = grouped_inner_kfold(stage.genes, y, 1, train, split);
  } catch (const Error& e) {
    note = std::string("inner CV impossible (") + e.what() + "): C = fallback";
    return params.ensemble.C;
  }
  std::vector<KernelEnsemble> previous(static_cast<size_t>(params.inner_folds));
  double best_auc = -1, best_c = params.ensemble.C;
  for (double c : grid) {
    std::vector<double> scores;
    std::vector<uint8_t> labels;
    for (int j = 0; j < params.inner_folds; ++j) {
      std::vector<int> inner_train, inner_test;
      for (size_t k = 0; k < train.size(); ++k)
        (inner[k] == j ? inner_test : inner_train).push_back(train[k]);
      int pos = 0;
      for (int r : inner_train) pos += y[static_cast<size_t>(r)];
      if (inner_test.empty() || pos == 0 || pos == static_cast<int>(inner_train.size())) continue;
      EnsembleParams ep = params.ensemble;
      ep.models = params.inner_models;
      ep.C = c;
      ep.seed = derive_seed(seed, {static_cast<uint64_t>(j)});
      auto& warm = previous[static_cast<size_t>(j)];
      KernelEnsemble ensemble =
          train_ensemble(gram, inner_train, y, ep, warm.members.empty() ? nullptr : &warm);
      const auto prediction = predict_ensemble(gram, ensemble, inner_test);
      warm = std::move(ensemble);
      for (size_t t = 0; t < inner_test.size(); ++t) {
        scores.push_back(prediction.score[t]);
        labels.push_back(y[static_cast<size_t>(inner_test[t])]);
      }
    }
    const auto auc = roc_auc(scores, labels);
    if (auc && *auc > best_auc) {
      best_auc = *auc;
      best_c = c;
    }
  }
  if (best_auc < 0) note = "inner CV gave no defined AUC: C = fallback";
  return best_c;
}

TaskOutput run_task(const Eigen::MatrixXd& gram, const Stage& stage, const Dataset& dataset,
                    const std::vector<uint8_t>& bad, int term, int fold, const std::string& layer,
                    const EvaluationParams& params) {
  TaskOutput out;
  const auto& problem = stage.problem;
  const std::string& term_name = problem.terms[static_cast<size_t>(term)];
  auto skip = [&](const std::string& reason) {
    out.skipped.push_back({layer, stage.name, term_name, fold, reason});
  };
  const int n = problem.rows();
  std::vector<uint8_t> y(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) y[static_cast<size_t>(i)] = problem.label(i, term);
  std::vector<int> train, test;
  int train_pos = 0;
  for (int i = 0; i < n; ++i) {
    if (bad[static_cast<size_t>(i)]) continue;
    if (stage.folds[static_cast<size_t>(i)] == fold) {
      test.push_back(i);
    } else {
      train.push_back(i);
      train_pos += y[static_cast<size_t>(i)];
    }
  }
  if (test.empty()) {
    skip("no test image in this fold");
    return out;
  }
  if (train_pos == 0 || train_pos == static_cast<int>(train.size())) {
    skip(std::string("training folds have no ") + (train_pos == 0 ? "positives" : "negatives") +
         " (" + plural(static_cast<int>(train.size()), "image") + ")");
    return out;
  }
  const uint64_t seed =
      derive_seed(params.seed, {stream(SeedStream::kEvaluationTask), stage.index,
                                static_cast<uint64_t>(term), static_cast<uint64_t>(fold)});
  std::string note;
  const double c = choose_c(gram, stage, y, train, derive_seed(seed, {1}), params, note);
  if (!note.empty()) skip(note);
  EnsembleParams ep = params.ensemble;
  ep.C = c;
  ep.seed = derive_seed(seed, {2});
  const KernelEnsemble ensemble = train_ensemble(gram, train, y, ep);
  const auto prediction = predict_ensemble(gram, ensemble, test);
  std::vector<uint8_t> labels(test.size());
  for (size_t t = 0; t < test.size(); ++t) {
    const int row = test[t];
    labels[t] = y[static_cast<size_t>(row)];
    const auto& image =
        dataset.images[static_cast<size_t>(problem.image_indices[static_cast<size_t>(row)])];
    out.predictions.push_back({image.id, image.gene, stage.name, layer, term_name, fold, labels[t],
                               prediction.score[t], prediction.vote[t]});
  }
  const BinaryMetrics m = binary_metrics(prediction.vote, prediction.score, labels);
  auto add = [&](const std::string& metric, double value) {
    out.metrics.push_back({params.method, layer, stage.name, term_name, fold, metric, value});
  };
  if (m.auc) add("auc", *m.auc);
  if (m.accuracy) add("accuracy", *m.accuracy);
  if (m.sensitivity) add("sensitivity", *m.sensitivity);
  if (m.specificity) add("specificity", *m.specificity);
  add("C", c);
  add("test_positives", m.positives);
  add("test_negatives", m.negatives);
  if (m.positives == 0) skip("test fold has no positives: sensitivity and AUC undefined");
  if (m.negatives == 0) skip("test fold has no negatives: specificity and AUC undefined");
  return out;
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
  const auto start = Clock::now();
  EvaluationResult result;

  // Stage ranges.
  std::vector<std::string> stages = params.stage_ranges;
  if (stages.empty())
    for (const auto& s : dataset.stage_ranges())
      if (s != "1-3") stages.push_back(s);
  if (stages.empty()) throw Error("evaluate: dataset " + dataset.source + " has no stage range");
  const auto& all_stages = stage_range_names();

  // Layers (default: every layer of the first store).
  std::vector<std::string> layers = params.layers;
  const FeatureStoreReader& first_store = stores(stages.front(), 0);
  if (layers.empty())
    for (const auto& l : first_store.layers()) layers.push_back(l.name);
  if (layers.empty()) throw file_error(first_store.path(), "the feature store has no layer");

  // Every store met: its id -> row map, checked once (layers, ids the dataset lacks, genes its
  // net was fine-tuned on).
  std::set<std::string> dataset_ids;
  for (const auto& image : dataset.images) dataset_ids.insert(image.id);
  struct StoreInfo {
    std::unordered_map<std::string, int64_t> row;
    std::set<std::string> finetune_genes;
  };
  std::map<const FeatureStoreReader*, StoreInfo> infos;
  auto info_of = [&](const FeatureStoreReader& s) -> const StoreInfo& {
    auto [it, fresh] = infos.try_emplace(&s);
    if (!fresh) return it->second;
    for (const auto& l : layers) s.dim(l);  // Error naming the file and the known layers
    for (int64_t r = 0; r < s.rows(); ++r)
      it->second.row.emplace(s.ids()[static_cast<size_t>(r)], r);
    int extra = 0;
    std::string first;
    for (const auto& id : s.ids())
      if (!dataset_ids.count(id) && extra++ == 0) first = id;
    if (extra > 0)
      result.skipped.push_back({"", "", "", -1,
                                plural(extra, "feature row") + " of " + s.path() +
                                    " with ids the dataset lacks (ignored; first: " + first + ")"});
    const auto attributes = s.attributes();
    if (auto a = attributes.find("finetune_genes"); a != attributes.end()) {
      std::istringstream lines(a->second);
      for (std::string gene; std::getline(lines, gene);)
        if (!gene.empty()) it->second.finetune_genes.insert(gene);
    }
    return it->second;
  };

  std::vector<std::string> configs = layers;
  const bool concat = params.concatenate && layers.size() >= 2;
  std::string concat_name;
  for (const auto& l : layers) concat_name += (concat_name.empty() ? "" : "+") + l;
  if (concat) configs.push_back(concat_name);
  result.layers = configs;

  size_t matched_images = 0;
  for (const auto& stage_name : stages) {
    Stage stage;
    stage.name = stage_name;
    stage.index = static_cast<uint64_t>(
        std::find(all_stages.begin(), all_stages.end(), stage_name) - all_stages.begin());
    std::vector<const FeatureStoreReader*> fold_store(static_cast<size_t>(params.folds));
    std::vector<const FeatureStoreReader*> distinct;
    for (int f = 0; f < params.folds; ++f) {
      fold_store[static_cast<size_t>(f)] = &stores(stage_name, f);
      if (std::find(distinct.begin(), distinct.end(), fold_store[static_cast<size_t>(f)]) ==
          distinct.end())
        distinct.push_back(fold_store[static_cast<size_t>(f)]);
    }
    // The stage range's images that every one of its stores holds.
    Dataset& matched = stage.matched;
    matched.source = dataset.source;
    std::vector<std::pair<int, std::string>> missing(distinct.size());  // count, first id
    bool any = false;
    for (const auto& image : dataset.images) {
      if (image.stage_range != stage_name) continue;
      any = true;
      bool everywhere = true;
      for (size_t s = 0; s < distinct.size(); ++s)
        if (!info_of(*distinct[s]).row.count(image.id)) {
          everywhere = false;
          if (missing[s].first++ == 0) missing[s].second = image.id;
        }
      if (everywhere) matched.images.push_back(image);
    }
    for (size_t s = 0; s < distinct.size(); ++s)
      if (missing[s].first > 0)
        result.skipped.push_back({"", stage_name, "", -1,
                                  plural(missing[s].first, "image") + " without features in " +
                                      distinct[s]->path() +
                                      " (dropped; first: " + missing[s].second + ")"});
    if (any && matched.images.empty()) continue;  // reported above
    matched_images += matched.images.size();
    try {
      OuterFoldParams fold_params;
      fold_params.folds = params.folds;
      fold_params.seed = params.seed;
      fold_params.terms = params.terms;
      OuterFolds outer = outer_folds(matched, stage_name, fold_params);
      stage.problem = std::move(outer.problem);
      stage.genes = std::move(outer.genes);
      stage.folds = std::move(outer.fold);
    } catch (const Error& e) {
      result.skipped.push_back(
          {"", stage_name, "", -1, std::string("stage range skipped: ") + e.what()});
      continue;
    }
    const auto& problem = stage.problem;
    const int n = problem.rows(), n_terms = static_cast<int>(problem.terms.size());
    // Leakage guard: no test gene of a fold may have reached the fine-tuning of its store's net.
    for (int i = 0; i < n; ++i) {
      const int f = stage.folds[static_cast<size_t>(i)];
      const auto* s = fold_store[static_cast<size_t>(f)];
      const auto& gene = stage.genes[static_cast<size_t>(i)];
      if (info_of(*s).finetune_genes.count(gene))
        throw file_error(s->path(), "its net was fine-tuned on gene " + gene +
                                        ", a test gene of fold " + std::to_string(f) +
                                        " of stage range " + stage_name +
                                        ": its features would leak the test genes (fine-tune "
                                        "with --fold " +
                                        std::to_string(f) + "/" + std::to_string(params.folds) +
                                        " and the same --seed, one store per fold)");
    }
    stage.skip_term.assign(static_cast<size_t>(n_terms), 0);
    for (int t = 0; t < n_terms; ++t) {
      std::set<std::string> genes;
      for (int i = 0; i < n; ++i)
        if (problem.label(i, t)) genes.insert(stage.genes[static_cast<size_t>(i)]);
      if (genes.size() < 2) {
        stage.skip_term[static_cast<size_t>(t)] = 1;
        result.skipped.push_back({"", stage_name, problem.terms[static_cast<size_t>(t)], -1,
                                  genes.empty()
                                      ? "term has no positive image"
                                      : "positives come from a single gene (" + *genes.begin() +
                                            "): grouped CV cannot both train and test it"});
      }
    }
    result.stage_ranges.push_back(stage_name);

    // Grams per layer: each store is read once per layer and stage range; with one store per
    // fold, fold f's Gram comes from fold f's store.
    auto rows_in = [&](const FeatureStoreReader& s) {  // store row of every problem row
      std::vector<int64_t> rows;
      const auto& row = info_of(s).row;
      for (int i = 0; i < n; ++i)
        rows.push_back(row.at(
            matched.images[static_cast<size_t>(problem.image_indices[static_cast<size_t>(i)])].id));
      return rows;
    };
    auto gram_of_layer = [&](const std::string& layer) {
      if (distinct.size() == 1)
        return compute_gram(*distinct[0], layer, rows_in(*distinct[0]), params.preprocessing,
                            stage.folds, params.folds, params.gram, reporter);
      GramResult combined;
      combined.grams.resize(static_cast<size_t>(params.folds));
      combined.non_finite.assign(static_cast<size_t>(n), 0);
      for (const auto* s : distinct) {
        auto g = compute_gram(*s, layer, rows_in(*s), params.preprocessing, stage.folds,
                              params.folds, params.gram, reporter);
        combined.seconds += g.seconds;
        for (int i = 0; i < n; ++i)
          combined.non_finite[static_cast<size_t>(i)] |= g.non_finite[static_cast<size_t>(i)];
        for (int f = 0; f < params.folds; ++f)
          if (fold_store[static_cast<size_t>(f)] == s)
            combined.grams[static_cast<size_t>(f)] =
                g.grams.size() > 1 ? g.grams[static_cast<size_t>(f)] : g.grams[0];
      }
      return combined;
    };
    std::map<std::string, std::vector<Eigen::MatrixXd>> grams;
    std::map<std::string, std::vector<uint8_t>> bad;
    std::vector<Eigen::MatrixXd> concat_grams;
    std::vector<uint8_t> concat_bad(static_cast<size_t>(n), 0);
    for (const auto& layer : layers) {
      auto g = gram_of_layer(layer);
      result.seconds["gram/" + stage_name + "/" + layer] = g.seconds;
      int n_bad = 0;
      std::string first;
      for (int i = 0; i < n; ++i)
        if (g.non_finite[static_cast<size_t>(i)]) {
          concat_bad[static_cast<size_t>(i)] = 1;
          if (n_bad++ == 0)
            first =
                matched.images[static_cast<size_t>(problem.image_indices[static_cast<size_t>(i)])]
                    .id;
        }
      if (n_bad > 0)
        result.skipped.push_back(
            {layer, stage_name, "", -1,
             plural(n_bad, "image") + " with NaN/Inf features (dropped; first: " + first + ")"});
      if (concat) {
        if (concat_grams.empty())
          concat_grams = g.grams;
        else
          for (size_t f = 0; f < g.grams.size(); ++f) concat_grams[f] += g.grams[f];
      }
      grams[layer] = std::move(g.grams);
      bad[layer] = std::move(g.non_finite);
    }
    if (concat) {
      grams[concat_name] = std::move(concat_grams);
      bad[concat_name] = concat_bad;
    }

    for (const auto& config : configs) {
      const auto classify_start = Clock::now();
      auto& config_grams = grams[config];
      if (params.preprocessing == Preprocessing::kL2)
        for (auto& k : config_grams) l2_normalise_gram(k);
      std::vector<std::pair<int, int>> tasks;
      for (int t = 0; t < n_terms; ++t)
        if (!stage.skip_term[static_cast<size_t>(t)])
          for (int f = 0; f < params.folds; ++f) tasks.emplace_back(t, f);
      std::vector<TaskOutput> outputs(tasks.size());
      detail::LoopErrors errors;
      std::mutex mutex;
      int64_t done = 0;
      const std::string stage_label = "classify " + stage_name + " " + config;
#pragma omp parallel for schedule(dynamic)
      for (int64_t k = 0; k < static_cast<int64_t>(tasks.size()); ++k) {
        errors.run(k, [&] {
          const auto [t, f] = tasks[static_cast<size_t>(k)];
          const auto& gram =
              config_grams.size() > 1 ? config_grams[static_cast<size_t>(f)] : config_grams[0];
          outputs[static_cast<size_t>(k)] =
              run_task(gram, stage, stage.matched, bad[config], t, f, config, params);
          std::lock_guard<std::mutex> lock(mutex);
          reporter.report(stage_label, ++done, static_cast<int64_t>(tasks.size()));
        });
      }
      errors.rethrow();
      for (auto& o : outputs) {
        result.metrics.insert(result.metrics.end(), o.metrics.begin(), o.metrics.end());
        result.predictions.insert(result.predictions.end(), o.predictions.begin(),
                                  o.predictions.end());
        result.skipped.insert(result.skipped.end(), o.skipped.begin(), o.skipped.end());
      }
      result.seconds["classify/" + stage_name + "/" + config] = since(classify_start);
      config_grams.clear();
      config_grams.shrink_to_fit();
      reporter.info(stage_name + " " + config + ": " +
                    plural(static_cast<int>(tasks.size()), "task") + " in " +
                    std::to_string(since(classify_start)) + " s");
    }
  }
  if (matched_images == 0)
    throw file_error(first_store.path(), "no image of dataset " + dataset.source +
                                             " has features in this store (do the ids match?)");
  result.summary = summarise(result.metrics);
  result.seconds["total"] = since(start);
  return result;
}

std::vector<SummaryRow> summarise(const std::vector<MetricRow>& metrics) {
  // key -> term -> values over folds, and fold -> values over terms
  struct Acc {
    std::map<std::string, std::vector<double>> by_term;
    std::map<int, std::vector<double>> by_fold;
  };
  std::map<std::tuple<std::string, std::string, std::string, std::string>, Acc> groups;
  std::vector<std::tuple<std::string, std::string, std::string, std::string>> order;
  static const std::set<std::string> reported = {"auc", "accuracy", "sensitivity", "specificity"};
  for (const auto& m : metrics) {
    if (!reported.count(m.metric)) continue;
    auto key = std::make_tuple(m.method, m.layer, m.stage_range, m.metric);
    if (!groups.count(key)) order.push_back(key);
    auto& acc = groups[key];
    acc.by_term[m.term].push_back(m.value);
    acc.by_fold[m.fold].push_back(m.value);
  }
  std::vector<SummaryRow> out;
  for (const auto& key : order) {
    const auto& acc = groups[key];
    std::vector<double> term_means, fold_means;
    for (const auto& [term, values] : acc.by_term) term_means.push_back(mean_std(values).mean);
    for (const auto& [fold, values] : acc.by_fold) fold_means.push_back(mean_std(values).mean);
    out.push_back({std::get<0>(key), std::get<1>(key), std::get<2>(key), std::get<3>(key),
                   mean_std(term_means), mean_std(fold_means)});
  }
  return out;
}

}  // namespace ishannot
