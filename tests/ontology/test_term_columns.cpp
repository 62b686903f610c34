// term_id columns and propagation on a tiny hand-made hierarchy; expected rows worked by hand.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "ishannot/common/error.h"
#include "ishannot/ontology/term_columns.h"
#include "support/test_paths.h"
#include "support/test_util.h"

namespace ishannot {
namespace {

// organism <-part_of- gut <-part_of- midgut; hindgut part_of gut; gut is_a tube; brain part_of
// organism.
const char* kTree = R"(data-version: tree
[Term]
id: X:1
name: organism
[Term]
id: X:2
name: gut
is_a: X:6
relationship: part_of X:1
[Term]
id: X:3
name: midgut
relationship: part_of X:2
[Term]
id: X:4
name: hindgut
relationship: part_of X:2
[Term]
id: X:5
name: brain
relationship: part_of X:1
[Term]
id: X:6
name: tube
)";

std::string write_file(const std::string& dir, const std::string& text) {
  const std::string path = dir + "/annotations.tsv";
  std::ofstream(path) << text;
  return path;
}

TEST(TermColumns, TermIdAfterTermAndOtherColumnsKept) {
  const std::string dir = test::temp_dir("term-columns-ids");
  const std::string path = write_file(dir,
                                      "image\tterm\tscore\tpredicted\textra\n"
                                      "a\tmidgut\t0.9\t1\tx\n"
                                      "a\tmaternal\t0.2\t0\ty\n");
  const auto s = add_term_columns(path, {{"midgut", "X:3"}});
  EXPECT_EQ(s.rows, 2);
  EXPECT_EQ(s.with_id, 1);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(),
            "image\tterm\tterm_id\tscore\tpredicted\textra\n"
            "a\tmidgut\tX:3\t0.9\t1\tx\n"
            "a\tmaternal\t\t0.2\t0\ty\n");
  // Run again: the existing term_id column is refilled, not doubled.
  add_term_columns(path, {{"midgut", "X:3"}, {"maternal", "Y:1"}});
  const auto rows = test::read_tsv(path);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].at("term_id"), "Y:1");
  EXPECT_EQ(test::error_text([&] { add_term_columns(dir + "/none.tsv", {}); }).find(dir), 0u);
}

TEST(TermColumns, PropagationAddsImpliedAncestorsWithTheBestDescendantScore) {
  std::istringstream obo(kTree);
  const Ontology o = parse_obo(obo, "tree.obo");
  const std::string dir = test::temp_dir("term-columns-propagate");
  // Image a: midgut (0.9) and hindgut (0.7) positive, brain negative -> gut, tube, organism
  // implied by midgut (the best). Image b: hindgut positive, gut scored by the model itself
  // (predicted 0: kept as the model's call) -> tube, organism implied by hindgut... via gut? gut is
  // named, so only its unnamed ancestors: tube and organism. Image c: nothing positive.
  const std::string path = write_file(dir,
                                      "image\tstage_range\tterm\tscore\tpredicted\n"
                                      "a\t13-16\tmidgut\t0.9\t1\n"
                                      "a\t13-16\thindgut\t0.7\t1\n"
                                      "a\t13-16\tbrain\t0.1\t0\n"
                                      "b\t13-16\thindgut\t0.6\t1\n"
                                      "b\t13-16\tgut\t0.4\t0\n"
                                      "c\t13-16\tbrain\t0.3\t0\n");
  const std::map<std::string, std::string> ids = {
      {"midgut", "X:3"}, {"hindgut", "X:4"}, {"brain", "X:5"}, {"gut", "X:2"}};
  const auto s = add_term_columns(path, ids, &o);
  EXPECT_EQ(s.rows, 6);
  EXPECT_EQ(s.propagated, 5);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(),
            "image\tstage_range\tterm\tterm_id\tscore\tpredicted\tpropagated\timplied_by\n"
            "a\t13-16\tmidgut\tX:3\t0.9\t1\t0\t\n"
            "a\t13-16\thindgut\tX:4\t0.7\t1\t0\t\n"
            "a\t13-16\tbrain\tX:5\t0.1\t0\t0\t\n"
            "a\t13-16\tgut\tX:2\t0.9\t1\t1\tmidgut\n"
            "a\t13-16\ttube\tX:6\t0.9\t1\t1\tmidgut\n"
            "a\t13-16\torganism\tX:1\t0.9\t1\t1\tmidgut\n"
            "b\t13-16\thindgut\tX:4\t0.6\t1\t0\t\n"
            "b\t13-16\tgut\tX:2\t0.4\t0\t0\t\n"
            "b\t13-16\ttube\tX:6\t0.6\t1\t1\thindgut\n"
            "b\t13-16\torganism\tX:1\t0.6\t1\t1\thindgut\n"
            "c\t13-16\tbrain\tX:5\t0.3\t0\t0\t\n");
}

TEST(TermColumns, PropagationNeedsScoreAndPredicted) {
  std::istringstream obo(kTree);
  const Ontology o = parse_obo(obo, "tree.obo");
  const std::string dir = test::temp_dir("term-columns-nopredicted");
  const std::string path = write_file(dir, "image\tterm\tscore\na\tgut\t0.5\n");
  EXPECT_NE(test::error_text([&] { add_term_columns(path, {}, &o); }).find("no column 'predicted'"),
            std::string::npos);
}

}  // namespace
}  // namespace ishannot

namespace ishannot {
namespace {

TEST(TermColumns, TextVariantInsertsTheSameColumn) {
  EXPECT_EQ(
      add_term_column_text("stage\titem\tterm\tvalue\n4-6\timages\t\t3\n4-6\tpositives\tgut\t2\n",
                           {{"gut", "X:2"}}),
      "stage\titem\tterm\tterm_id\tvalue\n4-6\timages\t\t\t3\n4-6\tpositives\tgut\tX:2\t2\n");
  EXPECT_EQ(add_term_column_text("a\tb\n1\t2\n", {}), "a\tb\n1\t2\n");
}

}  // namespace
}  // namespace ishannot
