// Term resolution (include/ishannot/ontology/term_resolution.h).
#include "ishannot/ontology/term_resolution.h"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "detail/tsv.h"
#include "ishannot/common/fs_util.h"

namespace ishannot {

namespace {

// "X Pn" (BDGP's stage-numbered primordium, n digits) -> "X"; other terms unchanged.
std::string without_stage_number(const std::string& term) {
  const auto space = term.rfind(" P");
  if (space == std::string::npos || space == 0 || space + 2 == term.size()) return term;
  for (size_t i = space + 2; i < term.size(); ++i)
    if (term[i] < '0' || term[i] > '9') return term;
  return term.substr(0, space);
}

// Every whole word ectoderm / endoderm / mesoderm turned into its adjective (+ "al").
std::string adjective_form(const std::string& text) {
  std::string out;
  size_t start = 0;
  while (start <= text.size()) {
    const auto end = std::min(text.find(' ', start), text.size());
    const std::string word = text.substr(start, end - start);
    out += word;
    if (word == "ectoderm" || word == "endoderm" || word == "mesoderm") out += "al";
    if (end == text.size()) break;
    out += ' ';
    start = end + 1;
  }
  return out;
}

// BDGP's pattern descriptors and curator flags (bdgp-meta's standard_annotations.csv, 2017).
const std::set<std::string> kPatternDescriptors = {"ubiquitous",
                                                   "faint ubiquitous",
                                                   "strong ubiquitous",
                                                   "maternal",
                                                   "subset",
                                                   "rapidly degraded",
                                                   "apically cleared",
                                                   "segmentally repeated",
                                                   "pair rule",
                                                   "pair_rule",
                                                   "segment polarity",
                                                   "gap",
                                                   "anterior",
                                                   "posterior",
                                                   "middle",
                                                   "no staining"};

bool is_curator_flag(const std::string& term) {
  return term.rfind("flag_", 0) == 0 || term.rfind("need new term", 0) == 0;
}

std::string describe(const OboTerm& t, const std::string& why) {
  return t.id + " " + t.name + " (" + why + ")";
}

const std::string kEmbryonic = "embryonic ";

}  // namespace

const char* resolution_kind_name(ResolutionKind kind) {
  switch (kind) {
    case ResolutionKind::kResolved:
      return "resolved";
    case ResolutionKind::kAmbiguous:
      return "ambiguous";
    case ResolutionKind::kNotAnatomy:
      return "not anatomy";
    case ResolutionKind::kUnresolved:
      return "unresolved";
  }
  return "?";
}

bool is_pattern_descriptor(const std::string& term) {
  return kPatternDescriptors.count(term) > 0 || is_curator_flag(term);
}

TermResolver::TermResolver(const Ontology& ontology) : ontology_(&ontology) {
  for (size_t i = 0; i < ontology.terms.size(); ++i) {
    const OboTerm& t = ontology.terms[i];
    if (t.obsolete) {
      by_obsolete_[t.name].push_back(i);
      continue;
    }
    by_name_[t.name].push_back(i);
    for (const auto& s : t.synonyms) {
      auto& list = s.scope == "EXACT" ? by_exact_[s.text] : by_other_[s.text];
      if (std::find(list.begin(), list.end(), i) == list.end()) list.push_back(i);
    }
  }
}

// Steps 1-2 on `text`; true when they decide (resolved or ambiguous). `via` prefixes the rule.
bool TermResolver::direct(const std::string& text, TermResolution& r,
                          const std::string& via) const {
  for (const auto& [map, step] : {std::pair{&by_name_, "name"}, {&by_exact_, "exact synonym"}}) {
    const auto at = map->find(text);
    if (at == map->end()) continue;
    r.rule = via + step;
    if (at->second.size() == 1) {
      const OboTerm& t = ontology_->terms[at->second[0]];
      r.kind = ResolutionKind::kResolved;
      r.id = t.id;
      r.name = t.name;
    } else {
      r.kind = ResolutionKind::kAmbiguous;
      for (size_t i : at->second)
        r.candidates.push_back(
            describe(ontology_->terms[i], std::string(step) + " '" + text + "'"));
    }
    return true;
  }
  return false;
}

TermResolution TermResolver::resolve(const std::string& term) const {
  TermResolution r;
  r.term = term;
  if (is_pattern_descriptor(term)) {
    r.kind = ResolutionKind::kNotAnatomy;
    r.rule = is_curator_flag(term) ? "BDGP curator flag" : "BDGP pattern descriptor";
    return r;
  }
  if (direct(term, r, "")) return r;
  std::string text = term, via;
  if (const std::string base = without_stage_number(term); base != term) {
    text = base;
    via = "stage-numbered primordium (X Pn = X), then ";
    if (direct(text, r, via)) return r;
  }
  if (text.rfind(kEmbryonic, 0) == 0) {
    const std::string larval = "embryonic/larval " + text.substr(kEmbryonic.size());
    if (direct(larval, r, via + "embryonic X = embryonic/larval X, then ")) return r;
  }
  candidates(term, r);
  return r;
}

// Candidates of an unresolved term: non-EXACT synonyms of the term (and of its "X Pn" base),
// names without "primordium"/"anlage", adjective forms ("ectoderm" -> "ectodermal"), names
// ending with the term. At most 6, each with why.
void TermResolver::candidates(const std::string& term, TermResolution& r) const {
  std::vector<std::pair<std::string, std::string>> forms = {{term, "synonym"}};
  const std::string base = without_stage_number(term);
  if (base != term) forms.push_back({base, "without Pn"});
  for (const std::string suffix : {" anlage in statu nascendi", " primordium", " anlage"})
    if (base.size() > suffix.size() &&
        base.compare(base.size() - suffix.size(), suffix.size(), suffix) == 0)
      forms.push_back(
          {base.substr(0, base.size() - suffix.size()), "without '" + suffix.substr(1) + "'"});
  std::set<std::string> seen;
  auto add = [&](size_t i, const std::string& why) {
    const OboTerm& t = ontology_->terms[i];
    if (r.candidates.size() < 6 && seen.insert(t.id).second)
      r.candidates.push_back(describe(t, why));
  };
  for (const auto& [form, why] : forms) {
    if (const auto at = by_obsolete_.find(form); at != by_obsolete_.end())
      for (size_t i : at->second) {
        const OboTerm& old = ontology_->terms[i];
        for (const auto* successors : {&old.replaced_by, &old.consider})
          for (const auto& id : *successors)
            if (const auto next = ontology_->index.find(id); next != ontology_->index.end())
              add(next->second,
                  "'" + form + "' is obsolete " + old.id +
                      (successors == &old.replaced_by ? ", replaced_by" : ", consider"));
      }
    for (const auto* map : {&by_name_, &by_exact_, &by_other_}) {
      const auto at = map->find(form);
      if (at == map->end()) continue;
      const std::string how = map == &by_other_ ? "non-EXACT synonym '" + form + "'"
                                                : "name or synonym '" + form + "' (" + why + ")";
      for (size_t i : at->second) add(i, how);
    }
  }
  const std::string adjectival = adjective_form(base);
  if (adjectival != base)
    if (const auto at = by_name_.find(adjectival); at != by_name_.end())
      for (size_t i : at->second) add(i, "adjective form '" + adjectival + "'");
  for (const auto& [name, ids] : by_name_)
    if (name.size() > base.size() + 1 &&
        name.compare(name.size() - base.size(), base.size(), base) == 0 &&
        name[name.size() - base.size() - 1] == ' ')
      for (size_t i : ids) add(i, "name ending with '" + base + "'");
}

std::vector<TermResolution> TermResolver::resolve(const std::vector<std::string>& terms) const {
  std::vector<TermResolution> out;
  for (const auto& t : terms) out.push_back(resolve(t));
  return out;
}

void write_term_resolutions(const std::string& path, const Ontology& ontology,
                            const std::vector<TermResolution>& resolutions) {
  std::ostringstream out;
  out << "term\tterm_id\tontology_name\tstatus\trule\tcandidates\tontology_version\n";
  const std::string version = ontology.name + " " + ontology.data_version;
  for (const auto& r : resolutions) {
    std::string candidates;
    for (const auto& c : r.candidates) candidates += (candidates.empty() ? "" : "; ") + c;
    out << detail::tsv_field(r.term) << '\t' << r.id << '\t' << detail::tsv_field(r.name) << '\t'
        << resolution_kind_name(r.kind) << '\t' << r.rule << '\t' << detail::tsv_field(candidates)
        << '\t' << detail::tsv_field(version) << '\n';
  }
  write_text_atomically(path, out.str());
}

std::string summarise_resolutions(const std::vector<TermResolution>& resolutions) {
  std::map<std::string, int> counts;
  for (const auto& r : resolutions) ++counts[resolution_kind_name(r.kind)];
  std::string s;
  for (const auto& [kind, n] : counts)
    s += (s.empty() ? "" : ", ") + kind + " " + std::to_string(n);
  return s;
}

}  // namespace ishannot
