// Term selection: the k most frequent CV terms of one stage range and the binary label matrix.
#include "ishannot/data/terms.h"

#include <algorithm>
#include <map>

#include "ishannot/common/error.h"
#include "ishannot/data/stage_range.h"

namespace ishannot {

const std::vector<std::string>& non_spatial_terms() {
  static const std::vector<std::string> terms = {"ubiquitous", "faint ubiquitous", "maternal",
                                                 "subset", "no staining"};
  return terms;
}

std::string TermSelectionParams::check() const {
  if (top_k < 1) return "top_k must be >= 1 (got " + std::to_string(top_k) + ")";
  if (!(view.empty() || view == "lateral" || view == "dorsal" || view == "ventral"))
    return "view must be lateral, dorsal, ventral or empty (got '" + view + "')";
  return "";
}

StageProblem select_terms(const Dataset& dataset, const std::string& stage_range,
                          const TermSelectionParams& params) {
  if (auto problem = params.check(); !problem.empty()) throw Error(problem);
  StageProblem p;
  p.stage_range = problem_stage_range(stage_range);
  for (int i : dataset.indices_of_stage(p.stage_range)) {
    const std::string& v = dataset.images[i].view;
    if (params.view.empty() || v.empty() || v == params.view) p.image_indices.push_back(i);
  }
  if (p.image_indices.empty())
    throw Error(dataset.source + ": no image at stage range " + p.stage_range +
                (params.view.empty() ? std::string() : " with view " + params.view));
  std::map<std::string, int> count;
  for (int i : p.image_indices)
    for (const auto& t : dataset.images[i].terms) ++count[t];
  std::vector<std::pair<std::string, int>> ranked;
  for (const auto& [term, n] : count)
    if (std::find(params.exclude.begin(), params.exclude.end(), term) == params.exclude.end())
      ranked.emplace_back(term, n);
  // Most images first; ties by name (the map already iterates by name, stable_sort keeps it).
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  if (static_cast<int>(ranked.size()) > params.top_k) ranked.resize(params.top_k);
  for (const auto& [term, n] : ranked) {
    p.terms.push_back(term);
    p.positives.push_back(n);
  }
  const size_t k = p.terms.size();
  p.labels.assign(p.image_indices.size() * k, 0);
  for (size_t r = 0; r < p.image_indices.size(); ++r) {
    const auto& terms = dataset.images[p.image_indices[r]].terms;
    for (size_t t = 0; t < k; ++t)
      if (std::find(terms.begin(), terms.end(), p.terms[t]) != terms.end()) p.labels[r * k + t] = 1;
  }
  return p;
}

}  // namespace ishannot
