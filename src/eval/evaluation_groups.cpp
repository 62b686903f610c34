// The group level of an evaluation (evaluation.h add_group_level): out-of-fold image predictions
// aggregated per gene x stage-range group by the group rule (groups.h), then the same metrics;
// and the summaries over terms and folds (summarise).
#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "ishannot/common/enum_names.h"
#include "ishannot/common/error.h"
#include "ishannot/eval/evaluation.h"
#include "ishannot/eval/metrics.h"

namespace ishannot {

constexpr EnumName<EvaluationLevel> kLevelNames[] = {{EvaluationLevel::kImage, "image"},
                                                     {EvaluationLevel::kGroup, "group"},
                                                     {EvaluationLevel::kBoth, "both"}};

EvaluationLevel parse_evaluation_level(const std::string& name) {
  return parse_enum(kLevelNames, name, "level");
}

std::string evaluation_level_name(EvaluationLevel level) {
  return enum_name(kLevelNames, level);
}

namespace {

// (layer, stage range, term, fold): one task; its groups by gene, in order of appearance.
using TaskKey = std::tuple<std::string, std::string, std::string, int>;

struct TaskGroups {
  std::vector<std::string> genes;
  std::map<std::string, std::pair<GroupAccumulator, int>> by_gene;  // accumulator, label
};

}  // namespace

void add_group_level(EvaluationResult& result, const EvaluationParams& params) {
  std::map<TaskKey, TaskGroups> tasks;
  std::vector<TaskKey> order;
  for (const auto& p : result.predictions) {
    const TaskKey key{p.layer, p.stage_range, p.term, p.fold};
    auto [it, fresh] = tasks.try_emplace(key);
    if (fresh) order.push_back(key);
    auto [group, new_gene] = it->second.by_gene.try_emplace(p.gene);
    if (new_gene) it->second.genes.push_back(p.gene);
    group->second.first.add(p.score, p.votes, p.members, p.vote);
    group->second.second = std::max(group->second.second, p.label);
  }
  static const std::set<std::string> image_metrics = {"auc", "accuracy", "sensitivity",
                                                      "specificity"};
  if (params.level == EvaluationLevel::kGroup)
    result.metrics.erase(
        std::remove_if(result.metrics.begin(), result.metrics.end(),
                       [](const MetricRow& m) { return image_metrics.count(m.metric) > 0; }),
        result.metrics.end());
  const GroupRule rule = params.group_rule;
  for (const auto& key : order) {
    const auto& [layer, stage, term, fold] = key;
    std::vector<double> scores;
    std::vector<uint8_t> votes, labels;
    for (const auto& gene : tasks[key].genes) {
      const auto& [acc, label] = tasks[key].by_gene.at(gene);
      scores.push_back(acc.score(rule));
      votes.push_back(static_cast<uint8_t>(acc.label(rule)));
      labels.push_back(static_cast<uint8_t>(label));
      result.group_predictions.push_back(
          {gene, stage, layer, term, fold, label, scores.back(), votes.back(), acc.images});
    }
    const BinaryMetrics m = binary_metrics(votes, scores, labels);
    auto add = [&](const std::string& metric, double value) {
      result.metrics.push_back({params.method, layer, stage, term, fold, "group_" + metric, value});
    };
    if (m.auc) add("auc", *m.auc);
    if (m.accuracy) add("accuracy", *m.accuracy);
    if (m.sensitivity) add("sensitivity", *m.sensitivity);
    if (m.specificity) add("specificity", *m.specificity);
    if (auto f1 = f1_score(votes, labels)) add("f1", *f1);
    add("test_positives", m.positives);
    add("test_negatives", m.negatives);
  }
}

std::vector<SummaryRow> summarise(const std::vector<MetricRow>& metrics) {
  // key -> term -> values over folds, and fold -> values over terms
  struct Acc {
    std::map<std::string, std::vector<double>> by_term;
    std::map<int, std::vector<double>> by_fold;
  };
  std::map<std::tuple<std::string, std::string, std::string, std::string>, Acc> groups;
  std::vector<std::tuple<std::string, std::string, std::string, std::string>> order;
  static const std::set<std::string> reported = {
      "auc",       "accuracy",       "sensitivity",       "specificity",
      "group_auc", "group_accuracy", "group_sensitivity", "group_specificity",
      "group_f1"};
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
