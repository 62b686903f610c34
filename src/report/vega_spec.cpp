// Shared pieces of the report's Vega-Lite specs (detail/vega_spec.h).
#include "report/vega_spec.h"

#include <algorithm>
#include <cmath>

#include "ishannot/common/assert.h"

namespace ishannot::detail {

nlohmann::json colour_by(const std::string& field, const std::vector<std::string>& names,
                         const std::string& title) {
  // Tableau 10: distinct in print and for common colour-vision deficiencies.
  static const std::vector<std::string> palette = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759",
                                                   "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
                                                   "#9c755f", "#bab0ac"};
  nlohmann::json range = nlohmann::json::array();
  for (size_t i = 0; i < names.size(); ++i) range.push_back(palette[i % palette.size()]);
  return {{"field", field},
          {"type", "nominal"},
          {"title", title},
          {"scale", {{"domain", names}, {"range", range}}}};
}

nlohmann::json spec_title(const std::string& text, const std::string& subtitle) {
  nlohmann::json title = {{"text", text}, {"anchor", "start"}, {"fontSize", 14}};
  if (!subtitle.empty()) title["subtitle"] = subtitle;
  return title;
}

nlohmann::json spec_config() {
  return {{"font", "sans-serif"},
          {"view", {{"stroke", "#ddd"}}},
          {"axis", {{"labelFontSize", 11}, {"titleFontSize", 12}, {"gridColor", "#eee"}}},
          {"header", {{"labelFontSize", 12}, {"titleFontSize", 12}}},
          {"legend", {{"labelFontSize", 11}, {"titleFontSize", 12}, {"labelLimit", 320}}}};
}

nlohmann::json figure_spec(const std::string& title, const std::string& subtitle,
                           const nlohmann::json& values, const nlohmann::json& body) {
  nlohmann::json spec = {{"$schema", "https://vega.github.io/schema/vega-lite/v5.json"},
                         {"title", spec_title(title, subtitle)},
                         {"config", spec_config()}};
  if (!values.is_null()) spec["data"] = {{"values", values}};
  ISHANNOT_ASSERT(body.is_null() || body.is_object(), "a figure body is a JSON object");
  if (body.is_object()) spec.update(body);
  return spec;
}

nlohmann::json channel(const std::string& field, const std::string& type,
                       const nlohmann::json& title, const nlohmann::json& more) {
  nlohmann::json c = {{"field", field}, {"type", type}};
  if (!(title.is_string() && title.get<std::string>() == "-")) c["title"] = title;
  c.update(more);
  return c;
}

nlohmann::json tooltip_field(const std::string& field, const std::string& title,
                             bool quantitative) {
  nlohmann::json t = {{"field", field}, {"title", title}};
  if (quantitative) {
    t["type"] = "quantitative";
    t["format"] = ".4f";
  } else {
    t["type"] = "nominal";
  }
  return t;
}

double axis_floor(const std::vector<double>& values) {
  double low = 0.5;
  for (double v : values)
    if (std::isfinite(v)) low = std::min(low, v);
  return low >= 0.5 ? 0.5 : std::max(0.0, std::floor(low * 10) / 10);
}

std::string metric_label(const std::string& metric) {
  return metric == "auc" ? "AUC" : metric;
}

}  // namespace ishannot::detail
