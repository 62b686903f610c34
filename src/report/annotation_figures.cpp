// Figures of annotate outputs (report/figures.h): the group-level annotation as a heat map.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "ishannot/report/figures.h"
#include "report/vega_spec.h"

namespace ishannot {

namespace {

// Per stage range at most kMaxGenes genes: those with the most positive calls (then by name).
constexpr size_t kMaxGenes = 60;

void genes_to_show(const AnnotationRun& run, std::map<std::string, std::set<std::string>>& shown,
                   std::map<std::string, size_t>& genes_in) {
  std::map<std::string, std::map<std::string, int>> positives;  // stage -> gene -> labels
  for (const auto& g : run.groups)
    positives[g.stage_range][g.gene] += g.call == "yes" || g.predicted;
  for (const auto& [stage, genes] : positives) {
    std::vector<std::pair<int, std::string>> ranked;
    for (const auto& [gene, n] : genes) ranked.push_back({-n, gene});
    std::sort(ranked.begin(), ranked.end());
    genes_in[stage] = ranked.size();
    for (size_t i = 0; i < ranked.size() && i < kMaxGenes; ++i)
      shown[stage].insert(ranked[i].second);
  }
}

// What a cell of the group figure says on hover.
nlohmann::json group_tooltip() {
  return {detail::tooltip_field("gene", "gene"),
          detail::tooltip_field("stage_range", "stage range"),
          detail::tooltip_field("term", "term"),
          detail::tooltip_field("score", "score", true),
          detail::tooltip_field("probability", "probability", true),
          detail::tooltip_field("call", "call"),
          detail::tooltip_field("validated", "validated"),
          detail::tooltip_field("images", "images"),
          detail::tooltip_field("rule", "rule")};
}

}  // namespace

std::optional<Figure> groups_figure(const AnnotationRun& run, const std::string& id) {
  using nlohmann::json;
  if (run.groups.empty()) return std::nullopt;
  std::vector<std::string> stages;
  for (const auto& g : run.groups) stages.push_back(g.stage_range);
  stages = sorted_stage_ranges(stages);
  std::map<std::string, std::set<std::string>> shown;
  std::map<std::string, size_t> genes_in;
  genes_to_show(run, shown, genes_in);
  // Diverging colours centred on the no-call band (run.json call_band), white inside it.
  double low = 0.5, high = 0.5;
  if (run.run.contains("call_band") && run.run["call_band"].is_object()) {
    low = run.run["call_band"].value("low", 0.5);
    high = run.run["call_band"].value("high", 0.5);
  }
  const double mid = (low + high) / 2;
  bool calibrated = false;
  for (const auto& g : run.groups) calibrated = calibrated || std::isfinite(g.probability);
  json rows = json::array();
  for (const auto& g : run.groups)
    if (shown[g.stage_range].count(g.gene))
      rows.push_back(
          {{"gene", g.gene},
           {"stage_range", g.stage_range},
           {"term", g.term},
           {"score", g.score},
           {"probability", std::isfinite(g.probability) ? json(g.probability) : json(nullptr)},
           {"shown", std::isfinite(g.probability) ? g.probability : g.score},
           {"call", g.call},
           {"validated", g.validated ? "yes" : "no"},
           {"predicted", g.predicted},
           {"images", g.images},
           {"rule", g.rule}});
  const json tooltip = group_tooltip();
  // One chart per stage range (vconcat): each has its own genes and terms.
  json charts = json::array();
  for (const auto& stage : stages)
    charts.push_back(
        {{"title",
          {{"text", "stage range " + stage +
                        (genes_in[stage] > kMaxGenes
                             ? " (the " + std::to_string(kMaxGenes) + " of " +
                                   std::to_string(genes_in[stage]) + " genes with the most terms)"
                             : "")},
           {"fontSize", 12},
           {"anchor", "start"}}},
         {"transform", {{{"filter", {{"field", "stage_range"}, {"equal", stage}}}}}},
         {"width", {{"step", 24}}},
         {"height", {{"step", 24}}},
         {"encoding",
          {{"x",
            {{"field", "term"},
             {"type", "nominal"},
             {"title", nullptr},
             {"axis", {{"labelAngle", -40}, {"labelLimit", 200}}}}},
           {"y", detail::channel("gene", "nominal", nullptr)}}},
         {"layer",
          {{{"mark", {{"type", "rect"}, {"stroke", "#fff"}, {"strokeWidth", 0.5}}},
            {"encoding",
             {{"color",
               {{"field", "shown"},
                {"type", "quantitative"},
                {"title", calibrated ? "probability" : "score"},
                {"scale",
                 {{"domain", {0, 1}},
                  {"domainMid", mid},
                  {"scheme", "redblue"},
                  {"reverse", true}}}}},
              {"opacity",
               {{"field", "validated"},
                {"type", "ordinal"},
                {"sort", {"yes", "no"}},
                {"title", "term validated"},
                {"scale", {{"domain", {"yes", "no"}}, {"range", {1.0, 0.35}}}}}},
              {"tooltip", tooltip}}}},
           {{"transform", {{{"filter", "datum.call == 'yes'"}}}},
            {"mark", {{"type", "point"}, {"filled", true}, {"size", 30}, {"color", "#111"}}}}}}});
  json spec = detail::figure_spec("Group-level annotation: " + run.dir,
                                  std::string(calibrated ? "probability" : "score") +
                                      " per gene and term (white = the no-call band); "
                                      "dot = call yes; faded = term not validated",
                                  rows, {{"vconcat", charts}});
  return Figure{id, "Group-level annotation (" + run.dir + ")",
                "groups.tsv: each gene's calibrated probability per term in each stage range "
                "(the raw score for a model without calibration) on a diverging scale centred "
                "on the no-call band (red = yes side, blue = no side, white = uncertain), a "
                "black dot where the call is yes, faded cells for terms the model could not "
                "validate; at most 60 genes per stage range (those with the most terms; all are "
                "in the table below and groups.tsv).",
                spec};
}

}  // namespace ishannot

namespace ishannot {

std::optional<Figure> reliability_figure(const AnnotationRun& run, const std::string& id) {
  using nlohmann::json;
  json rows = json::array();
  for (const auto& r : run.reliability)
    if (r.n > 0 && std::isfinite(r.mean_probability))
      rows.push_back({{"level", r.level},
                      {"stage_range", r.stage_range},
                      {"bin", std::to_string(r.bin_low).substr(0, 4) + "-" +
                                  std::to_string(r.bin_high).substr(0, 4)},
                      {"mean_probability", r.mean_probability},
                      {"fraction_positive", r.fraction_positive},
                      {"n", r.n}});
  if (rows.empty()) return std::nullopt;
  const json diagonal = {{"mark", {{"type", "rule"}, {"color", "#999"}, {"strokeDash", {4, 3}}}},
                         {"data", {{"values", {{{"x", 0}, {"y", 0}, {"x2", 1}, {"y2", 1}}}}}},
                         {"encoding",
                          {{"x", detail::channel("x", "quantitative")},
                           {"y", detail::channel("y", "quantitative")},
                           {"x2", {{"field", "x2"}}},
                           {"y2", {{"field", "y2"}}}}}};
  const json axis_x = {{"field", "mean_probability"},
                       {"type", "quantitative"},
                       {"title", "mean probability in the bin"},
                       {"scale", {{"domain", {0, 1}}}}};
  const json axis_y = {{"field", "fraction_positive"},
                       {"type", "quantitative"},
                       {"title", "share carrying the term"},
                       {"scale", {{"domain", {0, 1}}}}};
  const json tooltip = {detail::tooltip_field("level", "level"),
                        detail::tooltip_field("stage_range", "stage range"),
                        detail::tooltip_field("bin", "probability bin"),
                        detail::tooltip_field("mean_probability", "mean probability", true),
                        detail::tooltip_field("fraction_positive", "share positive", true),
                        detail::tooltip_field("n", "calls")};
  json points = {{"mark", {{"type", "line"}, {"point", true}}},
                 {"encoding",
                  {{"x", axis_x},
                   {"y", axis_y},
                   {"color", detail::channel("stage_range", "nominal", "stage")},
                   {"size", detail::channel("n", "quantitative", "calls")},
                   {"tooltip", tooltip}}}};
  json spec = detail::figure_spec(
      "Reliability of the probabilities: " + run.dir, "per level; on the diagonal = calibrated",
      rows,
      {{"facet", {{"column", detail::channel("level", "nominal", nullptr)}}},
       {"spec", {{"width", 260}, {"height", 260}, {"layer", {diagonal, points}}}}});
  return Figure{id, "Reliability diagram (" + run.dir + ")",
                "reliability.tsv: the annotated images (and gene x stage-range groups) binned by "
                "calibrated probability (10 bins); per bin the mean probability against the share "
                "that carry the term in the data. Points on the dashed diagonal are calibrated: "
                "of the calls at 0.8, 80 % are right. Below it the model is over-confident.",
                spec};
}

}  // namespace ishannot
