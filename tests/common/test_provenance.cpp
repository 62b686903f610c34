// Provenance (common/provenance.h): the flat form every output keeps, written by hand here, and
// the store attributes it becomes (features/store_attributes.h).
#include <gtest/gtest.h>

#include "ishannot/common/error.h"
#include "ishannot/common/provenance.h"
#include "ishannot/features/store_attributes.h"
#include "ishannot/version.h"

namespace ishannot {
namespace {

TEST(Provenance, EntriesAreTheDocumentedKeys) {
  Provenance p;
  p.command_line = "ishannot train --data d.csv";
  p.seed = 7;
  p.add_input("training_data", "d.csv", "ab12").add_input("features", "f.h5");
  p.extra["ontology"] = "fbbt 2013";
  const std::map<std::string, std::string> expected = {
      {"tool_version", ISHANNOT_VERSION},
      {"created_by", "ishannot train --data d.csv"},
      {"seed", "7"},
      {"training_data", "d.csv"},
      {"training_data_sha256", "ab12"},
      {"features", "f.h5"},
      {"ontology", "fbbt 2013"}};
  EXPECT_EQ(p.entries(), expected);
}

TEST(Provenance, LibraryCallerWithoutCommandLine) {
  Provenance p;  // no command line, no seed: both said, not invented
  const auto e = p.entries();
  EXPECT_EQ(e.at("created_by"), "");
  EXPECT_EQ(e.at("tool_version"), ISHANNOT_VERSION);
  EXPECT_EQ(e.count("seed"), 0u);
  p.tool_version = "my-pipeline 2.0";
  EXPECT_EQ(p.entries().at("tool_version"), "my-pipeline 2.0");
}

TEST(Provenance, AnInputGivenTwiceKeepsTheLast) {
  Provenance p;
  p.add_input("data", "a.csv", "11").add_input("data", "b.csv");
  ASSERT_EQ(p.inputs.size(), 1u);
  EXPECT_EQ(p.entries().at("data"), "b.csv");
  EXPECT_EQ(p.entries().count("data_sha256"), 0u);
}

TEST(Provenance, ExtraMayNotShadowAStandardKey) {
  Provenance p;
  p.add_input("data", "a.csv");
  p.extra["created_by"] = "someone else";
  EXPECT_NE(p.check().find("created_by"), std::string::npos);
  EXPECT_THROW(p.entries(), Error);
  p.extra = {{"data_sha256", "x"}};
  EXPECT_NE(p.check(), "");
  p.extra = {};
  p.inputs.push_back({"", "nameless.csv", ""});
  EXPECT_NE(p.check().find("nameless.csv"), std::string::npos);
}

TEST(Provenance, BecomesTheStoreAttributes) {
  StoreProvenance store;
  store.run.command_line = "extract --data x";
  store.run.seed = 99;
  const auto a = store_attributes(store);
  EXPECT_EQ(a.at("created_by"), "extract --data x");
  EXPECT_EQ(a.at("seed"), "99");
  EXPECT_EQ(a.at("tool_version"), ISHANNOT_VERSION);
  EXPECT_EQ(store_attributes(StoreProvenance{}).at("seed"), "0");
}

TEST(Provenance, StoreEntriesLeaveTheGeneListsOut) {
  const std::map<std::string, std::string> attributes = {
      {"backbone", "resnet50"},
      {store_attr::kFinetuneGenes, "g1\ng2"},
      {store_attr::kScDictionaryGenes, "g3"},
      {store_attr::kFinetuneStageRange, "13-16"}};
  const std::map<std::string, std::string> expected = {{"features.backbone", "resnet50"},
                                                       {"features.finetune_stage_range", "13-16"}};
  EXPECT_EQ(store_provenance_entries(attributes, "features."), expected);
}

}  // namespace
}  // namespace ishannot
