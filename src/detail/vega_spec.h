#pragma once
// Internal: pieces shared by the report's Vega-Lite specs (colours, titles, number formats).
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

/// A tooltip entry; quantitative fields shown with 4 decimals.
nlohmann::json tooltip_field(const std::string& field, const std::string& title,
                             bool quantitative = false);

/// The lower end of a value axis that starts at the chance level 0.5 unless values go lower
/// (then the next tenth below the lowest value).
double axis_floor(const std::vector<double>& values);

/// "AUC", "accuracy", ... as printed.
std::string metric_label(const std::string& metric);

}  // namespace ishannot::detail
