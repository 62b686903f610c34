#pragma once
// Internal: the report's Vega-Lite spec builder: every figure's outer shape (figure_spec), its
// encoding channels, colours, titles and number formats.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ishannot::detail {

/// A colour encoding on `field` with one fixed colour per name, in the order given (the same
/// method has the same colour in every figure).
nlohmann::json colour_by(const std::string& field, const std::vector<std::string>& names,
                         const std::string& title);

/// A title block: text and a subtitle line.
nlohmann::json spec_title(const std::string& text, const std::string& subtitle);

/// The config every figure shares (font, view frame, axis style).
nlohmann::json spec_config();

/// The spec of one figure: what every figure has — the Vega-Lite v5 schema, spec_title(title,
/// subtitle), inline data `values` (null: none at the top, e.g. when each concatenated chart
/// brings its own) and spec_config() — with `body`'s keys (marks, encoding, layers, facets,
/// concatenation, resolve ...) added. The one place a figure's outer shape is written.
nlohmann::json figure_spec(const std::string& title, const std::string& subtitle,
                           const nlohmann::json& values, const nlohmann::json& body);

/// An encoding channel on a data field: {"field", "type"} plus "title" when `title` is not
/// "-" (pass nullptr for Vega's "no title"), then `more`'s keys (sort, scale, axis ...).
nlohmann::json channel(const std::string& field, const std::string& type,
                       const nlohmann::json& title = "-",
                       const nlohmann::json& more = nlohmann::json::object());

/// A tooltip entry; quantitative fields shown with 4 decimals.
nlohmann::json tooltip_field(const std::string& field, const std::string& title,
                             bool quantitative = false);

/// The lower end of a value axis that starts at the chance level 0.5 unless values go lower
/// (then the next tenth below the lowest value).
double axis_floor(const std::vector<double>& values);

/// "AUC", "accuracy", ... as printed.
std::string metric_label(const std::string& metric);

}  // namespace ishannot::detail
