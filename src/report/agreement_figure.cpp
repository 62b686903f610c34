// Figure 7: the image x term agreement map between two methods (report/figures.h), in the
// paper's colour code.
#include <algorithm>
#include <map>
#include <set>

#include "ishannot/report/figures.h"
#include "report/vega_spec.h"

namespace ishannot {

namespace {

using nlohmann::json;

struct Vote {
  int label = 0, vote = 0;
  std::string gene;
};

// (id, term) -> label and vote of one method at one layer in one stage range.
std::map<std::pair<std::string, std::string>, Vote> votes_of(
    const std::vector<const std::vector<MethodPrediction>*>& sources, const MethodLayer& side,
    const std::string& stage_range) {
  std::map<std::pair<std::string, std::string>, Vote> out;
  for (const auto* predictions : sources)
    for (const auto& p : *predictions)
      if (p.method == side.method && p.prediction.layer == side.layer &&
          p.prediction.stage_range == stage_range)
        out[{p.prediction.id, p.prediction.term}] = {p.prediction.label, p.prediction.vote,
                                                     p.prediction.gene};
  return out;
}

// Legend entries in the paper's order, with its colours.
std::vector<std::pair<std::string, std::string>> legend(const AgreementMap& map) {
  const std::string a = map.first.name(), b = map.second.name();
  return {{a + " right, " + b + " wrong: positive", "#1a9641"},
          {a + " right, " + b + " wrong: negative", "#2c7bb6"},
          {b + " right, " + a + " wrong: positive", "#d7191c"},
          {b + " right, " + a + " wrong: negative", "#f4a6c8"},
          {"same prediction", "#ffffff"}};
}

int legend_index(Agreement agreement) {
  switch (agreement) {
    case Agreement::kFirstPositive:
      return 0;
    case Agreement::kFirstNegative:
      return 1;
    case Agreement::kSecondPositive:
      return 2;
    case Agreement::kSecondNegative:
      return 3;
    case Agreement::kSame:
      return 4;
  }
  return 4;
}

}  // namespace

Agreement agreement_of(int label, int first_vote, int second_vote) {
  if (first_vote == second_vote) return Agreement::kSame;
  const bool first_right = first_vote == label;
  if (first_right) return label == 1 ? Agreement::kFirstPositive : Agreement::kFirstNegative;
  return label == 1 ? Agreement::kSecondPositive : Agreement::kSecondNegative;
}

AgreementMap agreement_map(const std::vector<MethodPrediction>& predictions,
                           const MethodLayer& first, const MethodLayer& second,
                           const std::string& stage_range, int max_images) {
  return agreement_map(std::vector<const std::vector<MethodPrediction>*>{&predictions}, first,
                       second, stage_range, max_images);
}

AgreementMap agreement_map(const std::vector<const std::vector<MethodPrediction>*>& predictions,
                           const MethodLayer& first, const MethodLayer& second,
                           const std::string& stage_range, int max_images) {
  AgreementMap map;
  map.first = first;
  map.second = second;
  map.stage_range = stage_range;
  const auto a = votes_of(predictions, first, stage_range);
  const auto b = votes_of(predictions, second, stage_range);
  std::set<std::string> terms_a, terms_b;
  for (const auto& [key, vote] : a) terms_a.insert(key.second);
  for (const auto& [key, vote] : b) terms_b.insert(key.second);
  std::set_intersection(terms_a.begin(), terms_a.end(), terms_b.begin(), terms_b.end(),
                        std::back_inserter(map.terms));
  // Images both sides predicted for every shared term, with their positives.
  std::map<std::string, AgreementMap::Image> images;
  for (const auto& [key, vote] : a) {
    if (!std::binary_search(map.terms.begin(), map.terms.end(), key.second)) continue;
    auto& image = images[key.first];
    image.id = key.first;
    image.gene = vote.gene;
    image.terms += vote.label;
  }
  std::vector<AgreementMap::Image> complete;
  for (const auto& [id, image] : images) {
    const std::string& image_id = id;
    const bool both = std::all_of(map.terms.begin(), map.terms.end(), [&](const std::string& t) {
      return a.count({image_id, t}) && b.count({image_id, t});
    });
    const bool same_truth =
        both && std::all_of(map.terms.begin(), map.terms.end(), [&](const std::string& t) {
          return a.at({image_id, t}).label == b.at({image_id, t}).label;
        });
    if (both && !same_truth) ++map.images_with_other_truth;
    if (same_truth) complete.push_back(image);
  }
  map.images_available = static_cast<int>(complete.size());
  std::sort(complete.begin(), complete.end(), [](const auto& x, const auto& y) {
    if (x.terms != y.terms) return x.terms > y.terms;
    return x.gene != y.gene ? x.gene < y.gene : x.id < y.id;
  });
  if (static_cast<int>(complete.size()) > max_images) complete.resize(max_images);
  map.images = complete;
  for (const auto& image : map.images)
    for (const auto& term : map.terms) {
      const Vote& va = a.at({image.id, term});
      const Vote& vb = b.at({image.id, term});
      map.cells.push_back({image.id, term, va.label, agreement_of(va.label, va.vote, vb.vote)});
    }
  return map;
}

Figure agreement_figure(const AgreementMap& map,
                        const std::map<std::string, std::string>& thumbnail_of) {
  const auto entries = legend(map);
  std::vector<std::string> domain, range, rows;
  for (const auto& [name, colour] : entries) {
    domain.push_back(name);
    range.push_back(colour);
  }
  std::map<std::string, std::string> row_of;
  for (const auto& image : map.images) {
    row_of[image.id] = image.gene + " · " + image.id;
    rows.push_back(row_of[image.id]);
  }
  json cells = json::array(), thumbs = json::array();
  for (const auto& cell : map.cells)
    cells.push_back({{"row", row_of[cell.id]},
                     {"id", cell.id},
                     {"term", cell.term},
                     {"label", cell.label},
                     {"agreement", entries[legend_index(cell.agreement)].first}});
  for (const auto& image : map.images) {
    const auto at = thumbnail_of.find(image.id);
    if (at != thumbnail_of.end() && !at->second.empty())
      thumbs.push_back({{"row", row_of[image.id]}, {"url", at->second}});
  }
  const json y = {{"field", "row"},
                  {"type", "nominal"},
                  {"sort", rows},
                  {"title", nullptr},
                  {"scale", {{"domain", rows}}}};
  const json grid = {
      {"data", {{"values", cells}}},
      {"width", {{"step", 18}}},
      {"height", {{"step", 18}}},
      {"encoding",
       {{"x",
         {{"field", "term"},
          {"type", "nominal"},
          {"sort", map.terms},
          {"title", nullptr},
          {"axis", {{"orient", "top"}, {"labelAngle", -40}, {"labelLimit", 200}}}}},
        {"y", y}}},
      {"layer",
       {{{"mark", {{"type", "rect"}, {"stroke", "#c8ccd4"}, {"strokeWidth", 0.5}}},
         {"encoding",
          {{"color",
            {{"field", "agreement"},
             {"type", "nominal"},
             {"title", "agreement"},
             {"scale", {{"domain", domain}, {"range", range}}},
             {"legend",
              {{"orient", "bottom"},
               {"columns", 1},
               {"symbolStrokeColor", "#888"},
               {"symbolType", "square"}}}}},
           {"tooltip",
            {detail::tooltip_field("id", "image"), detail::tooltip_field("term", "term"),
             detail::tooltip_field("label", "annotated"),
             detail::tooltip_field("agreement", "agreement")}}}}},
        {{"transform", {{{"filter", "datum.label == 1"}}}},
         {"mark", {{"type", "point"}, {"filled", true}, {"size", 9}, {"color", "#222"}}}}}}};
  json spec = detail::figure_spec(
      "Figure 7: " + map.first.name() + " vs " + map.second.name() + ", " + map.stage_range,
      "the " + std::to_string(map.images.size()) +
          " images with the most terms; dot = annotated term",
      nullptr, nullptr);
  if (thumbs.empty()) {
    spec.update(grid);
  } else {
    const json column = {
        {"data", {{"values", thumbs}}},
        {"width", 45},
        {"height", {{"step", 18}}},
        {"mark", {{"type", "image"}, {"width", 45}, {"height", 17}, {"aria", false}}},
        {"encoding",
         {{"y",
           {{"field", "row"},
            {"type", "nominal"},
            {"sort", rows},
            {"axis", nullptr},
            {"scale", {{"domain", rows}}}}},
          {"url", detail::channel("url", "nominal")}}}};
    spec["hconcat"] = {column, grid};
    spec["spacing"] = 2;
  }
  spec["config"]["view"]["stroke"] = nullptr;
  const std::string id = "figure7-" + map.stage_range;
  return {id, "Figure 7: agreement map, " + map.stage_range,
          "Rows: the " + std::to_string(map.images.size()) + " images of stage range " +
              map.stage_range + " (of " + std::to_string(map.images_available) +
              " that both sides predicted) with the most annotated terms, as gene · image id, "
              "thumbnail on the left; columns: the terms. Green/blue: " +
              map.first.name() + " is right and " + map.second.name() +
              " wrong on a positive/negative; red/pink: the reverse; white: both predict the "
              "same. A dot marks an annotated (positive) term. Out-of-fold votes.",
          spec};
}

std::optional<std::pair<MethodLayer, MethodLayer>> default_agreement_pair(
    const Comparison& c, const std::string& stage_range) {
  const auto methods = c.methods_in(stage_range);
  auto mean_auc = [&](const std::string& method, const std::string& layer) {
    const SummaryRow* row = c.find(method, layer, stage_range, "auc");
    return row ? row->over_terms.mean : -1.0;
  };
  if (methods.size() >= 2) {
    std::vector<MethodLayer> sides;
    for (const auto& m : methods) sides.push_back({m, c.layer_shown(m, stage_range)});
    std::stable_sort(sides.begin(), sides.end(), [&](const MethodLayer& x, const MethodLayer& y) {
      return mean_auc(x.method, x.layer) > mean_auc(y.method, y.layer);
    });
    return std::make_pair(sides.front(), sides.back());
  }
  if (methods.empty()) return std::nullopt;
  std::vector<MethodLayer> layers;
  for (const auto& l : c.layers.at(methods[0]))
    if (c.find(methods[0], l, stage_range, "auc")) layers.push_back({methods[0], l});
  if (layers.size() < 2) return std::nullopt;
  std::stable_sort(layers.begin(), layers.end(), [&](const MethodLayer& x, const MethodLayer& y) {
    return mean_auc(x.method, x.layer) > mean_auc(y.method, y.layer);
  });
  return std::make_pair(layers.front(), layers.back());
}

}  // namespace ishannot
