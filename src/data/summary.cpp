// Table-1 style summary (see include/ishannot/summary.h).
#include "ishannot/data/summary.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <sstream>

#include "ishannot/common/error.h"

namespace ishannot {

std::vector<StageSummary> summarise_dataset(const Dataset& dataset,
                                            const TermSelectionParams& params,
                                            const std::vector<std::string>& stages) {
  if (auto problem = params.check(); !problem.empty()) throw Error(problem);
  std::vector<std::string> wanted;
  for (const auto& s : stages)
    if (!s.empty()) wanted.push_back(normalise_stage_range(s));
  std::vector<StageSummary> out;
  for (const auto& stage : dataset.stage_ranges()) {
    if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), stage) == wanted.end()) continue;
    StageSummary row;
    row.stage_range = stage;
    std::set<std::pair<std::string, std::string>> groups;
    std::set<std::string> genes, terms;
    int kept = 0;
    for (int i : dataset.indices_of_stage(stage)) {
      const auto& im = dataset.images[i];
      if (!(params.view.empty() || im.view.empty() || im.view == params.view)) continue;
      ++kept;
      groups.insert({im.gene, im.stage_range});
      genes.insert(im.gene);
      for (const auto& t : im.terms)
        if (std::find(params.exclude.begin(), params.exclude.end(), t) == params.exclude.end())
          terms.insert(t);
    }
    if (kept == 0) continue;
    row.images = kept;
    row.listed = dataset.listed.empty() ? kept : dataset.listed_count(stage, params.view);
    row.groups = static_cast<int>(groups.size());
    row.genes = static_cast<int>(genes.size());
    row.terms = static_cast<int>(terms.size());
    const StageProblem problem = select_terms(dataset, stage, params);
    row.top_terms = problem.terms;
    row.positives = problem.positives;
    out.push_back(std::move(row));
  }
  return out;
}

std::string summary_tsv(const std::vector<StageSummary>& rows) {
  std::ostringstream out;
  out << "stage_range\titem\tterm\tvalue\n";
  for (const auto& r : rows) {
    out << r.stage_range << "\tlisted\t\t" << r.listed << '\n';
    out << r.stage_range << "\timages\t\t" << r.images << '\n';
    out << r.stage_range << "\tgroups\t\t" << r.groups << '\n';
    out << r.stage_range << "\tgenes\t\t" << r.genes << '\n';
    out << r.stage_range << "\tterms\t\t" << r.terms << '\n';
    for (size_t t = 0; t < r.top_terms.size(); ++t)
      out << r.stage_range << "\tpositives\t" << r.top_terms[t] << '\t' << r.positives[t] << '\n';
  }
  return out.str();
}

std::string summary_text(const std::vector<StageSummary>& rows, const Dataset& dataset,
                         const TermSelectionParams& params) {
  std::ostringstream out;
  char buf[512];
  out << "dataset: " << dataset.source << "\n";
  out << "view: " << (params.view.empty() ? std::string("all") : params.view)
      << "   top-k: " << params.top_k;
  if (!params.exclude.empty()) {
    out << "   excluded:";
    for (const auto& e : params.exclude) out << " '" << e << "'";
  }
  out << "\n\n";
  std::snprintf(buf, sizeof buf, "%-7s %8s %8s %7s %6s %6s\n", "stage", "listed", "images",
                "groups", "genes", "terms");
  out << buf;
  for (const auto& r : rows) {
    std::snprintf(buf, sizeof buf, "%-7s %8d %8d %7d %6d %6d\n", r.stage_range.c_str(), r.listed,
                  r.images, r.groups, r.genes, r.terms);
    out << buf;
  }
  for (const auto& r : rows) {
    out << "\n"
        << r.stage_range << ": top " << r.top_terms.size() << " terms (positives of " << r.images
        << " images)\n";
    for (size_t t = 0; t < r.top_terms.size(); ++t) {
      std::snprintf(buf, sizeof buf, "  %2zu. %6d  %5.1f%%  %s\n", t + 1, r.positives[t],
                    100.0 * r.positives[t] / std::max(1, r.images), r.top_terms[t].c_str());
      out << buf;
    }
  }
  if (!params.view.empty()) {
    int unknown = 0;
    for (const auto& im : dataset.images) unknown += im.view.empty() ? 1 : 0;
    if (unknown > 0)
      out << "\n"
          << unknown << " image(s) have no view in the source: kept as " << params.view << "\n";
  }
  if (!dataset.skipped.empty()) {
    out << "\nnot taken from the source:\n";
    for (const auto& s : dataset.skipped) out << "  " << s.count << "  " << s.reason << "\n";
  }
  return out.str();
}

}  // namespace ishannot
