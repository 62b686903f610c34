// Pooled out-of-fold ROC curves per term (report/figures.h).
#include <algorithm>
#include <cmath>
#include <map>

#include "ishannot/report/figures.h"
#include "report/vega_spec.h"

namespace ishannot {

namespace {

using nlohmann::json;

// The area under the (full) curve by trapezoids: the pooled AUC, ties counted half.
double curve_area(const std::vector<RocRow>& curve) {
  double area = 0;
  for (size_t i = 1; i < curve.size(); ++i)
    area += (curve[i].fpr - curve[i - 1].fpr) * (curve[i].tpr + curve[i - 1].tpr) / 2;
  return area;
}

}  // namespace

std::vector<RocRow> thin_roc(const std::vector<RocRow>& curve, double step) {
  std::vector<RocRow> kept;
  for (size_t i = 0; i < curve.size(); ++i) {
    const bool ends = i == 0 || i + 1 == curve.size();
    if (ends ||
        std::abs(curve[i].fpr - kept.back().fpr) + std::abs(curve[i].tpr - kept.back().tpr) >= step)
      kept.push_back(curve[i]);
  }
  return kept;
}

std::optional<Figure> roc_figure(const Comparison& c,
                                 const std::vector<const std::vector<RocRow>*>& sources,
                                 const std::string& stage_range) {
  const auto terms = c.shared_terms(stage_range);
  const auto methods = c.methods_in(stage_range);
  // Curves in file order (roc.tsv lists each curve's points from (0, 0)).
  std::map<std::pair<std::string, std::string>, std::vector<RocRow>> curves;
  std::map<std::string, std::string> shown;  // method -> layer shown here
  for (const auto& method : methods) shown[method] = c.layer_shown(method, stage_range);
  for (const auto* roc : sources)
    for (const auto& r : *roc) {
      if (r.stage_range != stage_range) continue;
      const auto layer = shown.find(r.method);
      if (layer != shown.end() && r.layer == layer->second &&
          std::binary_search(terms.begin(), terms.end(), r.term))
        curves[{r.method, r.term}].push_back(r);
    }
  if (curves.empty()) return std::nullopt;
  json rows = json::array();
  for (const auto& term : terms) {
    rows.push_back({{"term", term}, {"method", "chance"}, {"fpr", 0}, {"tpr", 0}, {"order", 0}});
    rows.push_back({{"term", term}, {"method", "chance"}, {"fpr", 1}, {"tpr", 1}, {"order", 1}});
    for (const auto& method : methods) {
      const auto at = curves.find({method, term});
      if (at == curves.end()) continue;
      const double auc = curve_area(at->second);
      int order = 0;
      for (const auto& p : thin_roc(at->second, 1.0 / 200))
        rows.push_back(
            {{"term", term},
             {"method", method},
             {"layer", p.layer},
             {"fpr", p.fpr},
             {"tpr", p.tpr},
             {"order", order++},
             {"pooled_auc", auc},
             {"threshold", std::isinf(p.threshold) ? json(nullptr) : json(p.threshold)}});
    }
  }
  std::vector<std::string> names = methods;
  names.push_back("chance");
  json colour = detail::colour_by("method", names, "method");
  colour["scale"]["range"].back() = "#bbbbbb";
  json spec = detail::figure_spec(
      "ROC curves, " + stage_range, "pooled out-of-fold predictions; one panel per term", rows,
      {{"facet",
        {{"field", "term"},
         {"type", "nominal"},
         {"title", nullptr},
         {"sort", terms},
         {"header", {{"labelLimit", 180}}}}},
       {"columns", 5},
       {"spec",
        {{"width", 150},
         {"height", 150},
         {"mark", {{"type", "line"}, {"strokeWidth", 1.5}, {"interpolate", "linear"}}},
         {"encoding",
          {{"x",
            {{"field", "fpr"},
             {"type", "quantitative"},
             {"title", "false positive rate"},
             {"scale", {{"domain", {0, 1}}}}}},
           {"y",
            {{"field", "tpr"},
             {"type", "quantitative"},
             {"title", "true positive rate"},
             {"scale", {{"domain", {0, 1}}}}}},
           {"order", detail::channel("order", "quantitative")},
           {"color", colour},
           {"strokeDash",
            {{"condition", {{"test", "datum.method == 'chance'"}, {"value", {4, 3}}}},
             {"value", {1, 0}}}},
           {"tooltip",
            {detail::tooltip_field("method", "method"), detail::tooltip_field("layer", "layer"),
             detail::tooltip_field("pooled_auc", "pooled AUC", true),
             detail::tooltip_field("threshold", "threshold", true),
             detail::tooltip_field("fpr", "fpr", true),
             detail::tooltip_field("tpr", "tpr", true)}}}}}}});
  return Figure{"roc-" + stage_range, "ROC curves, " + stage_range,
                "Pooled out-of-fold ROC curve of every term of stage range " + stage_range +
                    " (roc.tsv), each method at its shown layer; the tooltip gives the pooled "
                    "AUC (which differs slightly from the mean of the per-fold AUCs). Curves are "
                    "thinned for drawing to steps of at least 0.005.",
                spec};
}

}  // namespace ishannot
