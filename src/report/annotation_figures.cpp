// Figures of annotate outputs (report/figures.h): the group-level annotation as a heat map.
#include <algorithm>
#include <map>
#include <set>

#include "detail/vega_spec.h"
#include "ishannot/report/figures.h"

namespace ishannot {

std::optional<Figure> groups_figure(const AnnotationRun& run, const std::string& id) {
  using nlohmann::json;
  if (run.groups.empty()) return std::nullopt;
  std::vector<std::string> stages;
  for (const auto& g : run.groups) stages.push_back(g.stage_range);
  stages = sorted_stage_ranges(stages);
  // Per stage range at most kMaxGenes genes: those with the most positive labels (then by name).
  constexpr size_t kMaxGenes = 60;
  std::map<std::string, std::map<std::string, int>> positives;  // stage -> gene -> labels
  for (const auto& g : run.groups) positives[g.stage_range][g.gene] += g.label;
  std::map<std::string, std::set<std::string>> shown;
  std::map<std::string, size_t> genes_in;
  for (const auto& [stage, genes] : positives) {
    std::vector<std::pair<int, std::string>> ranked;
    for (const auto& [gene, n] : genes) ranked.push_back({-n, gene});
    std::sort(ranked.begin(), ranked.end());
    genes_in[stage] = ranked.size();
    for (size_t i = 0; i < ranked.size() && i < kMaxGenes; ++i)
      shown[stage].insert(ranked[i].second);
  }
  json rows = json::array();
  for (const auto& g : run.groups)
    if (shown[g.stage_range].count(g.gene))
      rows.push_back({{"gene", g.gene},
                      {"stage_range", g.stage_range},
                      {"term", g.term},
                      {"score", g.score},
                      {"label", g.label},
                      {"images", g.images},
                      {"rule", g.rule}});
  const json tooltip = {
      detail::tooltip_field("gene", "gene"),   detail::tooltip_field("stage_range", "stage range"),
      detail::tooltip_field("term", "term"),   detail::tooltip_field("score", "score", true),
      detail::tooltip_field("label", "label"), detail::tooltip_field("images", "images"),
      detail::tooltip_field("rule", "rule")};
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
         {"width", {{"step", 16}}},
         {"height", {{"step", 16}}},
         {"encoding",
          {{"x",
            {{"field", "term"},
             {"type", "nominal"},
             {"title", nullptr},
             {"axis", {{"labelAngle", -40}, {"labelLimit", 200}}}}},
           {"y", {{"field", "gene"}, {"type", "nominal"}, {"title", nullptr}}}}},
         {"layer",
          {{{"mark", {{"type", "rect"}, {"stroke", "#fff"}, {"strokeWidth", 0.5}}},
            {"encoding",
             {{"color",
               {{"field", "score"},
                {"type", "quantitative"},
                {"title", "score"},
                {"scale", {{"domain", {0, 1}}, {"scheme", "blues"}}}}},
              {"tooltip", tooltip}}}},
           {{"transform", {{{"filter", "datum.label == 1"}}}},
            {"mark",
             {{"type", "point"}, {"filled", true}, {"size", 12}, {"color", "#d62728"}}}}}}});
  json spec = {{"title", detail::spec_title("Group-level annotation: " + run.dir,
                                            "score per gene and term; dot = labelled positive")},
               {"data", {{"values", rows}}},
               {"vconcat", charts},
               {"config", detail::spec_config()}};
  return Figure{id, "Group-level annotation (" + run.dir + ")",
                "groups.tsv: each gene's score per term in each stage range (blue, 0 to 1), a "
                "red dot where the group is labelled with the term; at most 60 genes per stage "
                "range (those with the most terms; all are in the table below and groups.tsv).",
                spec};
}

}  // namespace ishannot
