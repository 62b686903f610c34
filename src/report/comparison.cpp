// Evaluate runs merged and summarised (report/comparison.h).
#include "ishannot/report/comparison.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <tuple>

#include "ishannot/common/error.h"
#include "ishannot/common/format.h"

namespace ishannot {

namespace {

using Key = std::tuple<std::string, std::string, std::string>;  // method, layer, stage range

void add_unique(std::vector<std::string>& list, const std::string& value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(value);
}

void rename_method(EvaluationRun& run, const std::string& from, const std::string& to) {
  for (auto& m : run.metrics)
    if (m.method == from) m.method = to;
  for (auto& p : run.predictions)
    if (p.method == from) p.method = to;
  for (auto& r : run.roc)
    if (r.method == from) r.method = to;
}

// A later run repeating a (method, layer, stage range) of an earlier one gets "METHOD (FOLDER)".
void rename_clashes(std::vector<EvaluationRun>& runs, std::vector<std::string>& notes) {
  std::set<Key> claimed;
  std::set<std::string> names;
  for (auto& run : runs) {
    std::set<Key> keys;
    std::vector<std::string> methods;
    for (const auto& m : run.metrics) {
      keys.insert({m.method, m.layer, m.stage_range});
      add_unique(methods, m.method);
    }
    for (const auto& method : methods) {
      const bool clash = std::any_of(keys.begin(), keys.end(), [&](const Key& k) {
        return std::get<0>(k) == method && claimed.count(k);
      });
      if (!clash) continue;
      std::string folder = std::filesystem::path(run.dir).lexically_normal().filename().string();
      if (folder.empty()) folder = run.dir;
      std::string renamed = method + " (" + folder + ")";
      for (int i = 2; names.count(renamed); ++i)
        renamed = method + " (" + folder + " " + std::to_string(i) + ")";
      rename_method(run, method, renamed);
      notes.push_back(run.dir + " repeats results of method " + method +
                      " from an earlier run: shown as '" + renamed + "'");
    }
    for (const auto& m : run.metrics) {
      claimed.insert({m.method, m.layer, m.stage_range});
      names.insert(m.method);
    }
  }
}

std::vector<TermResult> term_results(const std::vector<MetricRow>& metrics) {
  static const std::set<std::string> reported = {"auc", "accuracy", "sensitivity", "specificity"};
  std::map<std::tuple<std::string, std::string, std::string, std::string>,
           std::map<std::string, std::vector<double>>>
      values;
  for (const auto& m : metrics)
    if (reported.count(m.metric))
      values[{m.method, m.layer, m.stage_range, m.term}][m.metric].push_back(m.value);
  std::vector<TermResult> out;
  for (const auto& [key, by_metric] : values) {
    TermResult t{std::get<0>(key), std::get<1>(key), std::get<2>(key), std::get<3>(key), {}};
    for (const auto& [metric, v] : by_metric) t.metrics[metric] = mean_std(v);
    out.push_back(std::move(t));
  }
  return out;
}

// The layer a method shows in a stage range: fixed, or the best mean AUC over terms.
void choose_layers(Comparison& c, const ComparisonParams& params) {
  for (const auto& [method, layer] : params.layers) {
    if (!c.layers.count(method))
      throw Error("--layer " + method + "=" + layer + ": no run has method '" + method +
                  "' (methods: " + join(c.methods) + ")");
    const auto& known = c.layers.at(method);
    if (std::find(known.begin(), known.end(), layer) == known.end())
      throw Error("--layer " + method + "=" + layer + ": method " + method + " has layers " +
                  join(known));
  }
  for (const auto& method : c.methods)
    for (const auto& stage : c.stage_ranges) {
      const auto fixed = params.layers.find(method);
      std::string best;
      double best_auc = -1;
      for (const auto& layer : c.layers.at(method)) {
        const SummaryRow* row = c.find(method, layer, stage, "auc");
        if (!row) continue;
        if (fixed != params.layers.end()) {
          if (layer == fixed->second) best = layer;
        } else if (row->over_terms.mean > best_auc) {
          best = layer;
          best_auc = row->over_terms.mean;
        }
      }
      if (!best.empty()) c.shown_layer[{method, stage}] = best;
    }
}

// Visible notes: stage ranges or terms that not every method has.
void note_mismatches(Comparison& c) {
  for (const auto& stage : c.stage_ranges) {
    const auto present = c.methods_in(stage);
    if (c.methods.size() > 1 && present.size() < c.methods.size())
      c.notes.push_back("stage range " + stage + " has results from " + join(present) +
                        " only: the others are not compared there");
    const auto shared = c.shared_terms(stage);
    for (const auto& method : present) {
      std::vector<std::string> own;
      for (const auto& term : c.terms_of(method, c.layer_shown(method, stage), stage))
        if (!std::binary_search(shared.begin(), shared.end(), term)) own.push_back(term);
      if (!own.empty())
        c.notes.push_back(stage + ": " + method +
                          " has terms the other methods lack (not in "
                          "Figures 5-7): " +
                          join(own, "; "));
    }
  }
}

}  // namespace

const SummaryRow* Comparison::find(const std::string& method, const std::string& layer,
                                   const std::string& stage_range,
                                   const std::string& metric) const {
  for (const auto& row : summary)
    if (row.method == method && row.layer == layer && row.stage_range == stage_range &&
        row.metric == metric)
      return &row;
  return nullptr;
}

std::string Comparison::layer_shown(const std::string& method,
                                    const std::string& stage_range) const {
  const auto at = shown_layer.find({method, stage_range});
  return at == shown_layer.end() ? "" : at->second;
}

std::vector<std::string> Comparison::terms_of(const std::string& method, const std::string& layer,
                                              const std::string& stage_range) const {
  std::vector<std::string> out;
  for (const auto& t : terms)
    if (t.method == method && t.layer == layer && t.stage_range == stage_range)
      out.push_back(t.term);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> Comparison::methods_in(const std::string& stage_range) const {
  std::vector<std::string> out;
  for (const auto& method : methods)
    if (!layer_shown(method, stage_range).empty()) out.push_back(method);
  return out;
}

std::vector<std::string> Comparison::shared_terms(const std::string& stage_range) const {
  std::vector<std::string> shared;
  bool first = true;
  for (const auto& method : methods_in(stage_range)) {
    const auto own = terms_of(method, layer_shown(method, stage_range), stage_range);
    if (first) {
      shared = own;
      first = false;
      continue;
    }
    std::vector<std::string> both;
    std::set_intersection(shared.begin(), shared.end(), own.begin(), own.end(),
                          std::back_inserter(both));
    shared = std::move(both);
  }
  return shared;
}

std::vector<std::pair<std::string, std::vector<const TermResult*>>> Comparison::compared_terms(
    const std::string& stage_range) const {
  const auto shared = shared_terms(stage_range);
  std::vector<std::pair<std::string, std::vector<const TermResult*>>> out;
  for (const auto& method : methods_in(stage_range)) {
    const std::string layer = layer_shown(method, stage_range);
    std::vector<const TermResult*> kept;
    for (const auto& t : terms)
      if (t.method == method && t.layer == layer && t.stage_range == stage_range &&
          t.metrics.count("auc") && std::binary_search(shared.begin(), shared.end(), t.term))
        kept.push_back(&t);
    out.emplace_back(method, std::move(kept));
  }
  return out;
}

Comparison compare_runs(std::vector<EvaluationRun>& runs, const ComparisonParams& params) {
  Comparison c;
  rename_clashes(runs, c.notes);
  std::vector<MetricRow> all;
  std::vector<std::string> stages;
  for (const auto& run : runs) {
    for (const auto& m : run.metrics) {
      add_unique(c.methods, m.method);
      stages.push_back(m.stage_range);
      all.push_back(m);
    }
    // Layers in the run's evaluated order, for every method the run has.
    for (const auto& layer : run.layers)
      for (const auto& m : run.metrics)
        if (m.layer == layer) {
          add_unique(c.layers[m.method], layer);
        }
  }
  c.stage_ranges = sorted_stage_ranges(stages);
  c.summary = summarise(all);
  c.terms = term_results(all);
  choose_layers(c, params);
  for (const auto& [method, layer] : params.layers)
    c.notes.push_back(method + ": layer " + layer +
                      " shown (--layer) in Table 2 and Figures 5-7, whatever its AUC");
  note_mismatches(c);
  return c;
}

}  // namespace ishannot
