// OBO parsing on hand-written text (the expected values are read off the text by hand).
#include <gtest/gtest.h>

#include <sstream>

#include "ishannot/common/error.h"
#include "ishannot/ontology/obo.h"

namespace ishannot {
namespace {

const char* kTiny = R"(format-version: 1.2
data-version: tiny-2024-01-02
ontology: tiny
! a comment line

[Term]
id: T:1
name: organism

[Term]
id: T:2
name: gut
synonym: "digestive tube" EXACT []
synonym: "alimentary \"canal\"" RELATED [FBrf:0001]
is_a: T:5 ! structure
relationship: part_of T:1 ! organism

[Term]
id: T:3
name: midgut {source="x"}
is_a: T:2 ! gut
relationship: part_of T:2 ! gut
relationship: develops_from T:4 ! endoderm

[Term]
id: T:4
name: obsolete endoderm
is_obsolete: true

[Term]
id: T:5
name: structure

[Typedef]
id: part_of
name: part of
)";

Ontology parse(const std::string& text, const std::string& name = "tiny.obo") {
  std::istringstream in(text);
  return parse_obo(in, name);
}

std::string parse_error(const std::string& text) {
  try {
    parse(text);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Obo, ParsesHeaderTermsSynonymsAndLinks) {
  const Ontology o = parse(kTiny);
  EXPECT_EQ(o.data_version, "tiny-2024-01-02");
  EXPECT_EQ(o.format_version, "1.2");
  EXPECT_EQ(o.name, "tiny");
  ASSERT_EQ(o.terms.size(), 5u);  // the [Typedef] is not a term
  EXPECT_EQ(o.find("part_of"), nullptr);
  const OboTerm* gut = o.find("T:2");
  ASSERT_NE(gut, nullptr);
  EXPECT_EQ(gut->name, "gut");
  ASSERT_EQ(gut->synonyms.size(), 2u);
  EXPECT_EQ(gut->synonyms[0].text, "digestive tube");
  EXPECT_EQ(gut->synonyms[0].scope, "EXACT");
  EXPECT_EQ(gut->synonyms[1].text, "alimentary \"canal\"");
  EXPECT_EQ(gut->synonyms[1].scope, "RELATED");
  EXPECT_EQ(gut->is_a, std::vector<std::string>{"T:5"});
  EXPECT_EQ(gut->part_of, std::vector<std::string>{"T:1"});
  const OboTerm* midgut = o.find("T:3");
  EXPECT_EQ(midgut->name, "midgut");                            // the {qualifier} is dropped
  EXPECT_EQ(midgut->part_of, std::vector<std::string>{"T:2"});  // develops_from is not part_of
  EXPECT_TRUE(o.find("T:4")->obsolete);
  EXPECT_FALSE(midgut->obsolete);
}

TEST(Obo, AncestorsFollowIsAAndPartOfNearestFirst) {
  const Ontology o = parse(kTiny);
  EXPECT_EQ(o.ancestors("T:3"), (std::vector<std::string>{"T:2", "T:5", "T:1"}));
  EXPECT_TRUE(o.ancestors("T:1").empty());
  EXPECT_TRUE(o.ancestors("T:404").empty());
}

TEST(Obo, MalformedLinesAreNamedByLine) {
  std::string bad = kTiny;
  bad.insert(bad.find("[Term]\nid: T:5"), "this line has no tag\n");
  // The inserted line is line 30 of the text (29 lines precede it).
  EXPECT_EQ(parse_error(bad), "tiny.obo:30: not a 'tag: value' line: this line has no tag");
  EXPECT_NE(parse_error("[Term\nid: X:1\n").find("tiny.obo:1: stanza header without ']'"),
            std::string::npos);
  EXPECT_NE(parse_error("[Term]\nid: X:1\nsynonym: \"x\" SIMILAR []\n")
                .find("tiny.obo:3: synonym "
                      "scope 'SIMILAR'"),
            std::string::npos);
  EXPECT_NE(parse_error("[Term]\nid: X:1\nsynonym: x EXACT []\n").find("tiny.obo:3:"),
            std::string::npos);
  EXPECT_NE(parse_error("[Term]\nname: no id\n").find("without an id"), std::string::npos);
  EXPECT_NE(parse_error("[Term]\nid: X:1\n[Term]\nid: X:1\n").find("X:1 defined twice"),
            std::string::npos);
}

TEST(Obo, MissingFileIsNamed) {
  try {
    read_obo("/nonexistent/fbbt.obo");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/fbbt.obo"), std::string::npos);
  }
}

}  // namespace
}  // namespace ishannot
