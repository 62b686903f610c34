// --ontology through the CLI (torch-free): train records the ids in the bundle, annotate writes
// term_id and, with --propagate, the implied ancestors (checked row by row against the file's own
// direct calls and a hierarchy written here); dataset on BDGP's tables against the 2013 FBbt
// release; the bad inputs of the issue as one-line errors with the CLI's exit codes.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "ishannot/annotate/model_bundle.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/data/dataset.h"
#include "support/annotate_support.h"
#include "support/cli_util.h"
#include "support/test_util.h"

using namespace ishannot;

namespace {

// t_gut and t_cord are parts of t_body (X:9, not a model term); t_brain is_a t_gut (for the
// test); t_rare has no id; e_cap and e_band are early terms, e_cap part_of X:9 too.
const char* kObo = R"(format-version: 1.2
data-version: test-1
ontology: tiny

[Term]
id: X:1
name: t_brain
is_a: X:2

[Term]
id: X:2
name: t_gut
relationship: part_of X:9

[Term]
id: X:3
name: t_cord
relationship: part_of X:9

[Term]
id: X:4
name: e_cap
relationship: part_of X:9

[Term]
id: X:5
name: e_band

[Term]
id: X:9
name: body
)";

// The synthetic dataset with a file name per image (a manifest names files; with --features
// only the ids are read, so the files need not exist).
Dataset named_dataset(const std::string& dir) {
  Dataset ds = test::annotate_dataset();
  for (auto& image : ds.images) image.path = dir + "/" + image.id + ".png";
  return ds;
}

}  // namespace

TEST(OntologyCli, TrainRecordsIdsAnnotateWritesAndPropagatesThem) {
  const std::string dir = test::temp_dir("ontology-cli");
  const Dataset ds = named_dataset(dir);
  write_manifest(ds, dir + "/data.csv");
  test::write_map_store(dir + "/f.h5", ds, 3);
  std::ofstream(dir + "/tiny.obo") << kObo;
  const std::string bin = test::cli();
  ASSERT_EQ(test::run_status(bin + "train --data " + dir + "/data.csv --features " + dir +
                             "/f.h5 --folds 0 --c-grid 1 --models 3 --ontology " + dir +
                             "/tiny.obo --out " + dir + "/m.h5 2> " + dir + "/t.txt"),
            0)
      << read_text_file(dir + "/t.txt");
  const ModelBundle bundle = read_model_bundle(dir + "/m.h5");
  EXPECT_EQ(bundle.attributes.at("ontology"), "tiny test-1");
  const auto ids = nlohmann::json::parse(bundle.attributes.at("term_ids"));
  EXPECT_EQ(ids.at("t_gut"), "X:2");
  EXPECT_FALSE(ids.contains("t_rare"));

  ASSERT_EQ(
      test::run_status(bin + "annotate --model " + dir + "/m.h5 --data " + dir +
                       "/data.csv --features " + dir + "/f.h5 --heatmaps 0 --ontology " + dir +
                       "/tiny.obo --propagate --out " + dir + "/out 2> " + dir + "/a.txt"),
      0)
      << read_text_file(dir + "/a.txt");
  const std::map<std::string, std::set<std::string>> ancestors = {
      {"X:1", {"X:2", "X:9"}}, {"X:2", {"X:9"}}, {"X:3", {"X:9"}}, {"X:4", {"X:9"}}, {"X:5", {}}};
  const std::map<std::string, std::string> id_of = {
      {"t_brain", "X:1"}, {"t_gut", "X:2"}, {"t_cord", "X:3"}, {"e_cap", "X:4"}, {"e_band", "X:5"}};
  // Per image: the direct rows, then the expected implied rows (ancestor -> best score).
  std::map<std::string, std::map<std::string, double>> direct_positive, implied;
  std::map<std::string, std::set<std::string>> named;
  int propagated = 0;
  for (const auto& r : test::read_tsv(dir + "/out/annotations.tsv")) {
    if (r.at("propagated") == "1") {
      implied[r.at("image")][r.at("term_id")] = std::stod(r.at("score"));
      EXPECT_EQ(r.at("predicted"), "1");
      EXPECT_EQ(r.at("term"), r.at("term_id") == "X:9" ? "body" : "t_gut");
      ++propagated;
      continue;
    }
    const auto id = id_of.find(r.at("term"));
    EXPECT_EQ(r.at("term_id"), id == id_of.end() ? "" : id->second) << r.at("term");
    named[r.at("image")].insert(r.at("term_id"));
    if (r.at("predicted") == "1" && id != id_of.end())
      direct_positive[r.at("image")][id->second] = std::stod(r.at("score"));
  }
  EXPECT_GT(propagated, 0);
  for (const auto& [image, positives] : direct_positive) {
    std::map<std::string, double> expected;
    for (const auto& [id, score] : positives)
      for (const auto& a : ancestors.at(id))
        if (!named[image].count(a)) expected[a] = std::max(expected[a], score);
    EXPECT_EQ(implied[image], expected) << image;
  }
  const auto terms = test::read_tsv(dir + "/out/terms.tsv");
  std::map<std::string, std::string> status;
  for (const auto& r : terms) status[r.at("term")] = r.at("status");
  EXPECT_EQ(status["t_gut"], "resolved");
  EXPECT_EQ(status["t_rare"], "unresolved");
  EXPECT_EQ(test::read_tsv(dir + "/out/groups.tsv").at(0).count("term_id"), 1u);

  // Without --ontology, the bundle's ids still give term_id (no propagation).
  ASSERT_EQ(test::run_status(bin + "annotate --model " + dir + "/m.h5 --data " + dir +
                             "/data.csv --features " + dir + "/f.h5 --heatmaps 0 --out " + dir +
                             "/plain 2> " + dir + "/p.txt"),
            0)
      << read_text_file(dir + "/p.txt");
  for (const auto& r : test::read_tsv(dir + "/plain/annotations.tsv")) {
    const auto id = id_of.find(r.at("term"));
    EXPECT_EQ(r.at("term_id"), id == id_of.end() ? "" : id->second);
    EXPECT_EQ(r.count("propagated"), 0u);
  }
}

TEST(OntologyCli, BadInputsAreOneLineWithTheConventionsExitCode) {
  const std::string dir = test::temp_dir("ontology-cli-bad");
  const Dataset ds = named_dataset(dir);
  write_manifest(ds, dir + "/data.csv");
  std::ofstream(dir + "/bad.obo") << "format-version: 1.2\n\n[Term]\nid: X:1\nname gut\n";
  const std::string bin = test::cli();
  EXPECT_EQ(test::run_status(bin + "dataset --data " + dir + "/data.csv --ontology " + dir +
                             "/bad.obo > /dev/null 2> " + dir + "/e.txt"),
            1);
  const std::string err = read_text_file(dir + "/e.txt");
  EXPECT_NE(err.find("bad.obo:5: not a 'tag: value' line: name gut"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_EQ(test::run_status(bin + "annotate --model " + dir + "/none.h5 --data " + dir +
                             "/data.csv --propagate --out " + dir + "/o 2> " + dir + "/p.txt"),
            2);
  EXPECT_NE(read_text_file(dir + "/p.txt").find("--propagate needs --ontology"), std::string::npos);
}

TEST(OntologyCli, DatasetOnBdgpTablesWithFbbt2013) {
  ISHANNOT_SKIP_WITHOUT_SHARED();
  const std::string data = test::shared_data_dir();
  const std::string obo = data + "/fbbt/fbbt-simple-2013-07-26.obo";
  if (!std::filesystem::exists(obo)) GTEST_SKIP() << obo << " missing";
  const std::string dir = test::temp_dir("ontology-cli-dataset");
  ASSERT_EQ(
      test::run_status(test::cli() + "dataset --data " + data + "/bdgp-meta --view all " +
                       "--ontology " + obo + " --tsv " + dir + "/s.tsv > " + dir + "/s.txt 2>&1"),
      0)
      << read_text_file(dir + "/s.txt");
  std::map<std::string, std::string> ids;
  for (const auto& r : test::read_tsv(dir + "/s.tsv"))
    if (!r.at("term").empty()) ids[r.at("term")] = r.at("term_id");
  EXPECT_EQ(ids.at("embryonic hindgut"), "FBbt:00005630");  // by name
  EXPECT_EQ(ids.at("embryonic midgut"), "FBbt:00001882");   // embryonic/larval rule
  EXPECT_EQ(ids.at("ubiquitous"), "");                      // not anatomy
  const std::string text = read_text_file(dir + "/s.txt");
  EXPECT_NE(text.find("brain primordium"), std::string::npos);
  EXPECT_NE(text.find("not anatomy"), std::string::npos);
}
