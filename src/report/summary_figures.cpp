// Table 2 and Figures 3-6 as Vega-Lite specs (report/figures.h): means over terms and per-term
// AUCs from the merged evaluate runs.
#include <algorithm>

#include "ishannot/report/figures.h"
#include "ishannot/report/paper_values.h"
#include "report/vega_spec.h"

namespace ishannot {

namespace {

using detail::tooltip_field;
using nlohmann::json;

const std::vector<std::string>& reported_metrics() {
  static const std::vector<std::string> metrics = {"auc", "accuracy", "sensitivity", "specificity"};
  return metrics;
}

// Mean +- std band fields of one data row.
void add_band(json& row, const std::string& field, const MeanStd& value) {
  row[field] = value.mean;
  row[field + "_std"] = value.std;
  row["lo"] = value.mean - value.std;
  row["hi"] = value.mean + value.std;
}

// Bars from the axis floor to `field`, with +- std rules, `offset` side by side within x.
json bar_layers(const std::string& x, const json& x_sort, const std::string& field,
                const json& colour, const json& tooltip, double floor, const std::string& y_title,
                const json& x_axis) {
  json y = {{"field", field},
            {"type", "quantitative"},
            {"title", y_title},
            {"scale", {{"domain", {floor, 1.0}}}}};
  json x_enc = {
      {"field", x}, {"type", "nominal"}, {"sort", x_sort}, {"title", nullptr}, {"axis", x_axis}};
  json offset = {{"field", "method"}, {"type", "nominal"}, {"sort", colour["scale"]["domain"]}};
  json bars = {{"mark", {{"type", "bar"}, {"clip", true}}},
               {"encoding",
                {{"x", x_enc},
                 {"xOffset", offset},
                 {"y", y},
                 {"y2", {{"datum", floor}}},
                 {"color", colour},
                 {"tooltip", tooltip}}}};
  json rules = {{"mark", {{"type", "rule"}, {"clip", true}, {"color", "#333"}}},
                {"encoding",
                 {{"x", x_enc},
                  {"xOffset", offset},
                  {"y", {{"field", "lo"}, {"type", "quantitative"}, {"scale", y["scale"]}}},
                  {"y2", {{"field", "hi"}}}}}};
  return json::array({bars, rules});
}

}  // namespace

Figure table2_figure(const Comparison& c) {
  const std::string paper_source = std::string("paper (") + paper_citation() + ")";
  json rows = json::array();
  std::vector<std::string> methods = c.methods;
  for (const auto& stage : c.stage_ranges)
    for (const auto& method : c.methods) {
      const std::string layer = c.layer_shown(method, stage);
      for (const auto& metric : reported_metrics())
        if (const SummaryRow* s = layer.empty() ? nullptr : c.find(method, layer, stage, metric)) {
          json row = {{"source", "ours"},
                      {"method", method},
                      {"layer", layer},
                      {"stage_range", stage},
                      {"metric", detail::metric_label(metric)},
                      {"terms", s->over_terms.count}};
          add_band(row, "value", s->over_terms);
          rows.push_back(row);
        }
    }
  for (const auto& p : paper_table2())
    if (std::find(methods.begin(), methods.end(), p.method) != methods.end() &&
        std::find(c.stage_ranges.begin(), c.stage_ranges.end(), p.stage_range) !=
            c.stage_ranges.end())
      rows.push_back({{"source", paper_source},
                      {"method", p.method},
                      {"stage_range", p.stage_range},
                      {"metric", detail::metric_label(p.metric)},
                      {"value", p.mean}});
  const json colour = detail::colour_by("method", methods, "method");
  const json x = {{"field", "stage_range"},
                  {"type", "ordinal"},
                  {"sort", c.stage_ranges},
                  {"title", "stage range"}};
  const json offset = {{"field", "method"}, {"type", "nominal"}, {"sort", methods}};
  const json tooltip = {tooltip_field("source", "source"),
                        tooltip_field("method", "method"),
                        tooltip_field("layer", "layer"),
                        tooltip_field("stage_range", "stage range"),
                        tooltip_field("value", "mean over terms", true),
                        tooltip_field("value_std", "std over terms", true)};
  json spec = detail::figure_spec(
      "Table 2: accuracy, sensitivity, specificity and AUC",
      "ours: mean ± std over terms (dots and bars); the paper's "
      "published means: open diamonds",
      rows,
      {{"facet",
        {{"column",
          {{"field", "metric"},
           {"type", "nominal"},
           {"title", nullptr},
           {"sort", {"AUC", "accuracy", "sensitivity", "specificity"}}}}}},
       {"spec",
        {{"width", 190},
         {"height", 220},
         {"layer",
          {{{"transform", {{{"filter", "datum.source == 'ours'"}}}},
            {"mark", {{"type", "rule"}, {"strokeWidth", 1.5}}},
            {"encoding",
             {{"x", x},
              {"xOffset", offset},
              {"y",
               {{"field", "lo"},
                {"type", "quantitative"},
                {"scale", {{"zero", false}}},
                {"title", "mean over terms"}}},
              {"y2", {{"field", "hi"}}},
              {"color", colour}}}},
           // One point layer for ours and the paper's (a layer that is empty in a facet makes
           // Vega warn): filled circles for ours, open diamonds for the paper's.
           {{"mark", {{"type", "point"}, {"filled", false}, {"size", 60}, {"strokeWidth", 1.5}}},
            {"encoding",
             {{"x", x},
              {"xOffset", offset},
              {"y", detail::channel("value", "quantitative")},
              {"color", colour},
              {"fill",
               {{"condition",
                 {{"test", "datum.source == 'ours'"},
                  {"field", "method"},
                  {"type", "nominal"},
                  {"scale", colour["scale"]}}},
                {"value", "white"}}},
              {"shape",
               {{"field", "source"},
                {"type", "nominal"},
                {"legend", nullptr},  // the subtitle says it: Vega draws no stroke here
                {"scale", {{"domain", {"ours", paper_source}}, {"range", {"circle", "diamond"}}}}}},
              {"tooltip", tooltip}}}}}}}},
       {"resolve", {{"scale", {{"y", "independent"}}}}}});
  return {"table2", "Table 2: ours beside the paper's",
          "Mean ± std over terms (per-term means over the outer folds) of each method at its "
          "shown layer, per stage range. Open diamonds: the means published by Zhang et al. "
          "(KDD 2015, Table 2; AUC for TL+MTL, TL and SC, the other metrics for TL+MTL only).",
          spec};
}

std::optional<Figure> layer_figure(const Comparison& c) {
  // Methods with two layers or more, or sharing a layer with another method.
  std::map<std::string, int> layer_count;
  for (const auto& method : c.methods)
    for (const auto& layer : c.layers.at(method)) ++layer_count[layer];
  std::vector<std::string> methods, layers;
  for (const auto& method : c.methods) {
    const auto& own = c.layers.at(method);
    const bool shared = std::any_of(own.begin(), own.end(),
                                    [&](const std::string& l) { return layer_count[l] > 1; });
    if (own.size() < 2 && !shared) continue;
    methods.push_back(method);
    for (const auto& l : own)
      if (std::find(layers.begin(), layers.end(), l) == layers.end()) layers.push_back(l);
  }
  if (methods.empty() || layers.size() < 2) return std::nullopt;
  json rows = json::array();
  std::vector<double> values;
  for (const auto& method : methods)
    for (const auto& stage : c.stage_ranges)
      for (const auto& layer : c.layers.at(method))
        if (const SummaryRow* s = c.find(method, layer, stage, "auc")) {
          json row = {{"method", method},
                      {"layer", layer},
                      {"stage_range", stage},
                      {"terms", s->over_terms.count}};
          add_band(row, "auc", s->over_terms);
          values.push_back(row["lo"]);
          rows.push_back(row);
        }
  const json colour = detail::colour_by("method", c.methods, "method");
  const json x = {{"field", "layer"},
                  {"type", "ordinal"},
                  {"sort", layers},
                  {"title", "layer"},
                  {"axis", {{"labelAngle", -30}, {"labelLimit", 140}}}};
  const json tooltip = {tooltip_field("method", "method"),
                        tooltip_field("layer", "layer"),
                        tooltip_field("stage_range", "stage range"),
                        tooltip_field("auc", "mean AUC over terms", true),
                        tooltip_field("auc_std", "std over terms", true),
                        tooltip_field("terms", "terms")};
  json spec =
      detail::figure_spec("Figures 3/4: AUC by layer",
                          "mean over terms, bars ± std over terms; one line per method", rows,
                          {{"facet",
                            {{"column",
                              {{"field", "stage_range"},
                               {"type", "ordinal"},
                               {"sort", c.stage_ranges},
                               {"title", "stage range"}}}}},
                           {"spec",
                            {{"width", std::max<size_t>(150, 45 * layers.size())},
                             {"height", 220},
                             {"layer",
                              {{{"mark", {{"type", "rule"}, {"opacity", 0.6}}},
                                {"encoding",
                                 {{"x", x},
                                  {"y",
                                   {{"field", "lo"},
                                    {"type", "quantitative"},
                                    {"scale", {{"domain", {detail::axis_floor(values), 1.0}}}}}},
                                  {"y2", {{"field", "hi"}}},
                                  {"color", colour}}}},
                               {{"mark", {{"type", "line"}, {"point", {{"size", 45}}}}},
                                {"encoding",
                                 {{"x", x},
                                  {"y",
                                   {{"field", "auc"},
                                    {"type", "quantitative"},
                                    {"title", "AUC (mean over terms)"},
                                    {"scale", {{"domain", {detail::axis_floor(values), 1.0}}}}}},
                                  {"color", colour},
                                  {"tooltip", tooltip}}}}}}}}});
  return Figure{"figure3-4-layers", "Figures 3/4: AUC by layer",
                "Mean AUC over terms (per-term means over the outer folds) of every evaluated "
                "layer, one panel per stage range, one line per method; bars: ± std over terms. "
                "The paper finds a middle layer best (VGG16 layer 21): early layers are too "
                "primitive, late ones too specific to ImageNet.",
                spec};
}

Figure methods_figure(const Comparison& c) {
  json rows = json::array();
  std::vector<double> values;
  for (const auto& stage : c.stage_ranges) {
    for (const auto& [method, results] : c.compared_terms(stage)) {
      std::vector<double> aucs;
      for (const TermResult* t : results) aucs.push_back(t->metrics.at("auc").mean);
      if (aucs.empty()) continue;
      const MeanStd over_terms = mean_std(aucs);
      json row = {{"method", method},
                  {"layer", c.layer_shown(method, stage)},
                  {"stage_range", stage},
                  {"terms", over_terms.count}};
      add_band(row, "auc", over_terms);
      values.push_back(row["lo"]);
      rows.push_back(row);
    }
  }
  const json colour = detail::colour_by("method", c.methods, "method");
  const json tooltip = {tooltip_field("method", "method"),
                        tooltip_field("layer", "layer"),
                        tooltip_field("stage_range", "stage range"),
                        tooltip_field("auc", "mean AUC over terms", true),
                        tooltip_field("auc_std", "std over terms", true),
                        tooltip_field("terms", "terms")};
  json spec = detail::figure_spec(
      "Figure 5: methods side by side",
      "mean AUC over the terms all methods share, "
      "bars ± std over terms",
      rows,
      {{"width", std::max<size_t>(300, 40 * c.methods.size() * c.stage_ranges.size())},
       {"height", 260},
       {"layer",
        bar_layers("stage_range", c.stage_ranges, "auc", colour, tooltip,
                   detail::axis_floor(values), "AUC (mean over terms)", {{"labelAngle", 0}})}});
  return {"figure5-methods", "Figure 5: methods side by side",
          "Per stage range, each method at its shown layer: mean AUC over the terms every method "
          "has there (per-term means over the outer folds), bars ± std over terms. Bars start at "
          "0.5, the AUC of a random guess.",
          spec};
}

Figure terms_figure(const Comparison& c) {
  json rows = json::array();
  std::vector<double> values;
  for (const auto& stage : c.stage_ranges)
    for (const auto& [method, results] : c.compared_terms(stage))
      for (const TermResult* t : results) {
        json row = {{"method", method},
                    {"layer", t->layer},
                    {"stage_range", stage},
                    {"term", t->term},
                    {"folds", t->metrics.at("auc").count}};
        add_band(row, "auc", t->metrics.at("auc"));
        values.push_back(row["lo"]);
        rows.push_back(row);
      }
  const json colour = detail::colour_by("method", c.methods, "method");
  const json tooltip = {tooltip_field("term", "term"),
                        tooltip_field("method", "method"),
                        tooltip_field("layer", "layer"),
                        tooltip_field("auc", "AUC (mean over folds)", true),
                        tooltip_field("auc_std", "std over folds", true),
                        tooltip_field("folds", "folds")};
  // One chart per stage range (vconcat): each has its own terms.
  json charts = json::array();
  const double floor = detail::axis_floor(values);
  for (const auto& stage : c.stage_ranges)
    charts.push_back(
        {{"title", {{"text", "stage range " + stage}, {"fontSize", 12}, {"anchor", "start"}}},
         {"transform", {{{"filter", {{"field", "stage_range"}, {"equal", stage}}}}}},
         {"width", {{"step", 14 * std::max<size_t>(1, c.methods_in(stage).size()) + 8}}},
         {"height", 170},
         {"layer", bar_layers("term", "ascending", "auc", colour, tooltip, floor, "AUC",
                              {{"labelAngle", -35}, {"labelLimit", 190}})}});
  json spec = detail::figure_spec("Figure 6: AUC per term",
                                  "mean over the outer folds, bars ± std over folds", rows,
                                  {{"vconcat", charts}});
  return {"figure6-terms", "Figure 6: AUC per term",
          "Each term's AUC (mean over the outer folds, bars ± std over folds), per stage range, "
          "methods side by side at their shown layers. Only the terms every method of a stage "
          "range has are drawn (see the notes for the others).",
          spec};
}

}  // namespace ishannot
