// "Image vs bag" (figures.h bag_figure): per stage range, the image-level AUC, the aggregated-
// image group AUC (evaluate --level group|both), each bag learner's group AUC (evaluate --unit
// bag) and the macro-F1 over terms of the group-level rows, from the runs' metrics.tsv.
#include <map>
#include <set>

#include "ishannot/report/figures.h"
#include "report/vega_spec.h"

namespace ishannot {

namespace {

std::string config_text(const nlohmann::json& run, const char* key, const std::string& fallback) {
  if (!run.is_object() || !run.contains("config")) return fallback;
  const auto& config = run["config"];
  if (!config.contains(key) || !config[key].is_string()) return fallback;
  const std::string value = config[key].get<std::string>();
  return value.empty() ? fallback : value;
}

// The learner a metric row stands for: "image", "aggregated images (RULE)" or "bag (POOL)".
std::string learner_of(const EvaluationRun& run, const std::string& metric) {
  if (config_text(run.run, "unit", "image") == "bag")
    return "bag (" + config_text(run.run, "bag_pool", "mean") + ")";
  if (metric.rfind("group_", 0) == 0)
    return "aggregated images (" + config_text(run.run, "group_rule", "mean") + ")";
  return "image";
}

}  // namespace

std::optional<Figure> bag_figure(const std::vector<EvaluationRun>& runs) {
  using nlohmann::json;
  bool any_bag = false;
  for (const auto& run : runs) any_bag |= config_text(run.run, "unit", "image") == "bag";
  if (!any_bag) return std::nullopt;
  json rows = json::array();
  std::vector<std::string> learners;
  std::set<std::string> seen;
  for (const auto& run : runs) {
    for (const auto& s : summarise(run.metrics)) {
      const bool auc = s.metric == "auc" || s.metric == "group_auc";
      if (!auc && s.metric != "group_f1") continue;
      const std::string learner = learner_of(run, s.metric) + " · " + s.method + " · " + s.layer;
      if (seen.insert(learner).second) learners.push_back(learner);
      rows.push_back({{"stage_range", s.stage_range},
                      {"stage_order", stage_order(s.stage_range)},
                      {"learner", learner},
                      {"measure", auc ? "mean AUC" : "macro-F1"},
                      {"value", s.over_terms.mean},
                      {"std", s.over_terms.std},
                      {"terms", s.over_terms.count}});
    }
  }
  const json tooltip = {detail::tooltip_field("learner", "learner"),
                        detail::tooltip_field("stage_range", "stage range"),
                        detail::tooltip_field("measure", "measure"),
                        detail::tooltip_field("value", "mean over terms", true),
                        detail::tooltip_field("std", "std over terms", true),
                        detail::tooltip_field("terms", "terms")};
  json spec = detail::figure_spec(
      "Image vs bag",
      "per stage range: image-level AUC, aggregated-image and bag "
      "group AUC, macro-F1 over terms (group level)",
      rows,
      {{"facet",
        {{"row", detail::channel("measure", "nominal", nullptr)},
         {"column",
          {{"field", "stage_range"},
           {"type", "ordinal"},
           {"title", "stage range"},
           {"sort", {{"field", "stage_order"}}}}}}},
       {"resolve", {{"scale", {{"y", "independent"}}}}},
       {"spec",
        {{"width", {{"step", 18}}},
         {"height", 160},
         {"mark", {{"type", "bar"}, {"tooltip", true}}},
         {"encoding",
          {{"x",
            {{"field", "learner"}, {"type", "nominal"}, {"axis", nullptr}, {"sort", learners}}},
           {"y", detail::channel("value", "quantitative", nullptr)},
           {"color", detail::colour_by("learner", learners, "learner")},
           {"tooltip", tooltip}}}}}});
  return Figure{
      "image-vs-bag", "Image vs bag",
      "Per stage range (columns): the mean over terms of the image-level AUC (the "
      "paper's unit), of the group AUC when a model trained on images is aggregated per "
      "gene x stage-range group (evaluate --level group|both, by its --group-rule), and "
      "of the group AUC of each bag learner (evaluate --unit bag, by its --bag-pool); the "
      "lower row, macro-F1 over terms of the group-level rows. One bar per learner, "
      "method and layer (hover for the std over terms and the terms averaged).",
      spec};
}

}  // namespace ishannot
