// Term resolution: each rule on a hand-made ontology, then BDGP's top-10 terms against the 2013
// FBbt release, checked against the counts of ../shared/data/fbbt/README.md and ids looked up in
// the OBO file by hand.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "ishannot/ontology/term_resolution.h"
#include "support/test_paths.h"
#include "support/test_util.h"

namespace ishannot {
namespace {

const char* kHandMade = R"(data-version: hand
[Term]
id: F:1
name: ventral nerve cord primordium
[Term]
id: F:2
name: embryonic/larval midgut
[Term]
id: F:3
name: midgut
[Term]
id: F:4
name: gut
synonym: "alimentary canal" EXACT []
[Term]
id: F:5
name: posterior endoderm
synonym: "posterior endoderm primordium P2" RELATED []
[Term]
id: F:6
name: hindgut
synonym: "tube" EXACT []
[Term]
id: F:7
name: foregut
synonym: "tube" EXACT []
[Term]
id: F:8
name: central brain primordium
[Term]
id: F:9
name: obsolete gut
synonym: "old gut" EXACT []
is_obsolete: true
)";

TEST(TermResolution, EachRuleOnAHandMadeOntology) {
  std::istringstream in(kHandMade);
  const Ontology o = parse_obo(in, "hand.obo");
  const TermResolver resolver(o);
  auto check = [&](const std::string& term, ResolutionKind kind, const std::string& id,
                   const std::string& rule) {
    const TermResolution r = resolver.resolve(term);
    EXPECT_EQ(r.kind, kind) << term;
    EXPECT_EQ(r.id, id) << term;
    EXPECT_EQ(r.rule, rule) << term;
    return r;
  };
  check("midgut", ResolutionKind::kResolved, "F:3", "name");
  check("alimentary canal", ResolutionKind::kResolved, "F:4", "exact synonym");
  check("ventral nerve cord primordium P3", ResolutionKind::kResolved, "F:1",
        "stage-numbered primordium (X Pn = X), then name");
  // "embryonic midgut" -> "embryonic/larval midgut", not the bare "midgut".
  check("embryonic midgut", ResolutionKind::kResolved, "F:2",
        "embryonic X = embryonic/larval X, then name");
  const auto tube = check("tube", ResolutionKind::kAmbiguous, "", "exact synonym");
  EXPECT_EQ(tube.candidates.size(), 2u);
  check("maternal", ResolutionKind::kNotAnatomy, "", "BDGP pattern descriptor");
  check("flag_for_volker", ResolutionKind::kNotAnatomy, "", "BDGP curator flag");
  // Obsolete terms never resolve.
  check("old gut", ResolutionKind::kUnresolved, "", "");
  // A RELATED synonym is a candidate, never the id.
  const auto p2 = check("posterior endoderm primordium P2", ResolutionKind::kUnresolved, "", "");
  ASSERT_FALSE(p2.candidates.empty());
  EXPECT_EQ(p2.candidates[0].rfind("F:5 posterior endoderm (", 0), 0u) << p2.candidates[0];
  const auto brain = check("brain primordium", ResolutionKind::kUnresolved, "", "");
  ASSERT_EQ(brain.candidates.size(), 1u);
  EXPECT_EQ(brain.candidates[0].rfind("F:8 central brain primordium (", 0), 0u);
}

// The top-10 terms of BDGP stages 2..6 (= stage ranges 4-6 .. 13-16), by number of gene x stage
// groups carrying them (ties broken by name), counted here from the CSV text itself.
std::set<std::string> bdgp_top10(const std::string& csv) {
  std::map<std::string, std::map<std::string, int>> counts;
  for (const auto& row : test::read_csv_rows(csv)) {
    std::set<std::string> terms;
    const std::string text = row.at("annotation");
    static const std::regex quoted(R"('([^']*)')");
    for (std::sregex_iterator m(text.begin(), text.end(), quoted), end; m != end; ++m)
      terms.insert((*m)[1]);
    for (const auto& t : terms) ++counts[row.at("stage")][t];
  }
  std::set<std::string> top;
  for (const std::string stage : {"2", "3", "4", "5", "6"}) {
    std::vector<std::pair<int, std::string>> order;
    for (const auto& [t, n] : counts[stage]) order.push_back({-n, t});
    std::sort(order.begin(), order.end());
    for (size_t i = 0; i < 10 && i < order.size(); ++i) top.insert(order[i].second);
  }
  return top;
}

TEST(TermResolution, BdgpTop10TermsAgainstFbbt2013) {
  ISHANNOT_SKIP_WITHOUT_SHARED();
  const std::string data = test::shared_data_dir();
  const std::string obo = data + "/fbbt/fbbt-simple-2013-07-26.obo";
  if (!std::ifstream(obo)) GTEST_SKIP() << obo << " not found: skipping";
  const Ontology o = read_obo(obo);
  EXPECT_EQ(o.data_version, "2013-07-26");
  EXPECT_EQ(o.terms.size(), 8674u);  // README: 8,674 terms (8722 ids less 48 [Typedef]s)
  const auto top = bdgp_top10(data + "/bdgp-meta/standard_annotations.csv");
  ASSERT_EQ(top.size(), 41u);  // README: 41 distinct terms
  const TermResolver resolver(o);
  std::map<std::string, int> by_rule;
  int any_name = 0, only_other_synonym = 0;
  std::map<std::string, TermResolution> by_term;
  for (const auto& term : top) {
    const TermResolution r = resolver.resolve(term);
    by_term[term] = r;
    ++by_rule[r.kind == ResolutionKind::kResolved ? r.rule : resolution_kind_name(r.kind)];
    const bool named = std::any_of(o.terms.begin(), o.terms.end(),
                                   [&](const OboTerm& t) { return t.name == term; });
    const bool other = std::any_of(o.terms.begin(), o.terms.end(), [&](const OboTerm& t) {
      return std::any_of(t.synonyms.begin(), t.synonyms.end(),
                         [&](const OboSynonym& s) { return s.text == term && s.scope != "EXACT"; });
    });
    any_name += named;
    if (!named && other) ++only_other_synonym;
  }
  EXPECT_EQ(any_name, 21);            // README: 21 match a term name exactly ...
  EXPECT_EQ(only_other_synonym, 10);  // ... 10 only a non-EXACT synonym
  // ... but 5 of the 21 names are of terms FBbt 2013 made obsolete (head mesoderm primordium,
  // trunk mesoderm primordium, ventral ectoderm primordium, and the dorsal and ventral ectoderm
  // anlagen in statu nascendi): never an id, their `consider` term a candidate.
  EXPECT_EQ(by_rule["name"], 16);
  EXPECT_EQ(by_rule["exact synonym"], 0);
  EXPECT_EQ(by_rule["not anatomy"], 4);  // ubiquitous, faint ubiquitous, maternal, subset
  EXPECT_EQ(by_rule["ambiguous"], 0);
  EXPECT_EQ(by_rule["stage-numbered primordium (X Pn = X), then name"], 1);
  EXPECT_EQ(by_rule["embryonic X = embryonic/larval X, then name"], 2);
  EXPECT_EQ(by_rule["unresolved"], 18);
  const auto& obsolete = by_term["head mesoderm primordium"];
  EXPECT_EQ(obsolete.kind, ResolutionKind::kUnresolved);
  ASSERT_FALSE(obsolete.candidates.empty());
  EXPECT_EQ(obsolete.candidates[0].rfind("FBbt:00000127 head mesoderm (", 0), 0u)
      << obsolete.candidates[0];
  // Ids looked up by hand in the OBO file.
  EXPECT_EQ(by_term["embryonic midgut"].id, "FBbt:00001882");  // embryonic/larval midgut
  EXPECT_EQ(by_term["embryonic central nervous system"].id, "FBbt:00001919");
  EXPECT_EQ(by_term["ventral nerve cord primordium P3"].id, "FBbt:00005554");
  EXPECT_EQ(by_term["embryonic hindgut"].id, "FBbt:00005630");
  EXPECT_EQ(by_term["ubiquitous"].kind, ResolutionKind::kNotAnatomy);
  EXPECT_EQ(by_term["brain primordium"].kind, ResolutionKind::kUnresolved);
  EXPECT_EQ(by_term["dorsal ectoderm primordium"].kind, ResolutionKind::kUnresolved);
  const auto& candidates = by_term["dorsal ectoderm primordium"].candidates;
  EXPECT_TRUE(std::any_of(candidates.begin(), candidates.end(), [](const std::string& c) {
    return c.rfind("FBbt:00000112 dorsal ectoderm (", 0) == 0;  // without 'primordium'
  }));
}

}  // namespace
}  // namespace ishannot
