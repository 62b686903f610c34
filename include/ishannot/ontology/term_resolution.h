#pragma once
// BDGP's controlled-vocabulary terms resolved to ontology (FBbt) ids, never guessed. In order:
//   1. name            the term is the name of exactly one non-obsolete term
//   2. exact synonym   ... an EXACT synonym of exactly one
//   3. BDGP naming rules, each tried on the term and then 1-2 on the result (rules may chain):
//      - "stage-numbered primordium": BDGP numbers the primordia of a structure by stage ("ventral
//        nerve cord primordium P3", "head mesoderm primordium P2"); FBbt has one term, without the
//        number: "X Pn" -> "X"
//      - "embryonic/larval": FBbt names embryonic structures that persist into the larva
//        "embryonic/larval X" where BDGP says "embryonic X" ("embryonic midgut" ->
//        "embryonic/larval midgut")
//   Checked against FBbt 2013-07-26 and BDGP's 322 terms (../shared/data/fbbt/README.md): no rule
//   gives a second id for a term that 1-2 resolve.
// A term matching two ids at one step is `ambiguous` (both listed, no id). BDGP's pattern
// descriptors (`ubiquitous`, `maternal`, `subset`, `segmentally repeated`, ...) and curators'
// flags are labelled `not anatomy` and get no id. Anything else is `unresolved`, with the
// candidates found (the replaced_by/consider terms of an obsolete term of that name — FBbt 2013
// made "head mesoderm primordium" and other primordia obsolete —, non-EXACT synonyms, forms
// without "primordium"/"anlage", names ending with the term): for a person to decide, never used
// as the id.
#include <string>
#include <unordered_map>
#include <vector>

#include "ishannot/ontology/obo.h"

namespace ishannot {

enum class ResolutionKind { kResolved, kAmbiguous, kNotAnatomy, kUnresolved };

/// "resolved", "ambiguous", "not anatomy", "unresolved".
const char* resolution_kind_name(ResolutionKind kind);

struct TermResolution {
  std::string term;  ///< as BDGP writes it
  ResolutionKind kind = ResolutionKind::kUnresolved;
  std::string id, name;  ///< the ontology term (resolved only)
  /// How: "name", "exact synonym", "stage-numbered primordium (X Pn = X), then name", ...;
  /// for not anatomy: "BDGP pattern descriptor" or "BDGP curator flag".
  std::string rule;
  /// "FBbt:... NAME (why)": the ids of an ambiguous term, the candidates of an unresolved one.
  std::vector<std::string> candidates;
};

/// BDGP's terms that describe an expression pattern or a curator's flag, not anatomy.
bool is_pattern_descriptor(const std::string& term);

class TermResolver {
 public:
  explicit TermResolver(const Ontology& ontology);
  TermResolution resolve(const std::string& term) const;
  std::vector<TermResolution> resolve(const std::vector<std::string>& terms) const;
  const Ontology& ontology() const { return *ontology_; }

 private:
  const Ontology* ontology_;
  std::unordered_map<std::string, std::vector<size_t>> by_name_, by_exact_, by_other_, by_obsolete_;
  bool direct(const std::string& text, TermResolution& r, const std::string& via) const;
  void candidates(const std::string& term, TermResolution& r) const;
};

/// terms.tsv: term term_id ontology_name status rule candidates ontology_version (candidates
/// joined with "; "; ontology_version: the OBO header's `ontology` and `data-version`, "fbbt
/// 2013-07-26"). Written atomically.
void write_term_resolutions(const std::string& path, const Ontology& ontology,
                            const std::vector<TermResolution>& resolutions);

/// Counts by status ("resolved 31, not anatomy 4, ...") for messages.
std::string summarise_resolutions(const std::vector<TermResolution>& resolutions);

}  // namespace ishannot
