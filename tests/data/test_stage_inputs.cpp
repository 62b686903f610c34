// Stages as biologists write them: embryonic stages 1-17 and ranges of stages map to BDGP's six
// ranges by the table of docs/DATA.md (written out here by hand), BDGP's range numbers only as
// range:N; image folders with <stage>/ and <gene>/<stage>/ subfolders; what annotate's --stage
// and --gene fill in, counted by origin, and the warning for one --stage over a whole folder.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "ishannot/common/error.h"
#include "ishannot/data/image_folder.h"
#include "ishannot/data/stage_range.h"
#include "support/test_paths.h"
#include "support/test_util.h"

using namespace ishannot;
namespace fs = std::filesystem;

namespace {

void touch(const std::string& path) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << "x";
}

int64_t count_of(const StageAssignment& a, const std::string& range, const std::string& origin) {
  for (const auto& c : a.counts)
    if (c.stage_range == range && c.origin == origin) return c.images;
  return 0;
}

}  // namespace

TEST(StageParse, EmbryonicStagesMapToBdgpRanges) {
  // Campos-Ortega & Hartenstein stages -> BDGP ranges, by hand.
  const std::vector<std::string> expected = {"",      "1-3",   "1-3",   "1-3",   "4-6",   "4-6",
                                             "4-6",   "7-8",   "7-8",   "9-10",  "9-10",  "11-12",
                                             "11-12", "13-16", "13-16", "13-16", "13-16", "13-16"};
  for (int stage = 1; stage <= 17; ++stage)
    EXPECT_EQ(normalise_stage_range(std::to_string(stage)), expected[static_cast<size_t>(stage)])
        << stage;
  EXPECT_EQ(normalise_stage_range("4"), "4-6") << "--stage 4 is stage 4, not BDGP's range 4";
  EXPECT_NE(parse_stage("17").explanation.find("no later range"), std::string::npos);
  EXPECT_EQ(parse_stage("14").explanation, "stage 14 -> BDGP range 13-16");
  for (const char* bad : {"0", "18", "-3", "4-", "x", "", "range:0", "range:7", "range:x"})
    EXPECT_THROW(normalise_stage_range(bad), Error) << bad;
}

TEST(StageParse, RangesOfStagesMustLieInOneBdgpRange) {
  EXPECT_EQ(normalise_stage_range("4-6"), "4-6");
  EXPECT_EQ(normalise_stage_range("13-16"), "13-16");
  EXPECT_EQ(normalise_stage_range("13-17"), "13-16");
  EXPECT_EQ(normalise_stage_range("14-15"), "13-16");
  EXPECT_EQ(normalise_stage_range("5-6"), "4-6");
  EXPECT_EQ(normalise_stage_range(" Stages 11 - 12 "), "11-12");
  EXPECT_EQ(normalise_stage_range("stage_9-10"), "9-10");
  EXPECT_EQ(normalise_stage_range("Stage 14"), "13-16");
  EXPECT_EQ(parse_stage("14-15").explanation, "stages 14-15 -> BDGP range 13-16");
  const std::string spans = test::error_text([] { normalise_stage_range("4-8"); });
  EXPECT_NE(spans.find("span two BDGP ranges (4-6 and 7-8)"), std::string::npos) << spans;
  EXPECT_THROW(normalise_stage_range("6-4"), Error);
}

TEST(StageParse, BdgpRangeNumbersOnlyWhenAskedFor) {
  const std::vector<std::string> ranges = {"1-3", "4-6", "7-8", "9-10", "11-12", "13-16"};
  for (int n = 1; n <= 6; ++n)
    EXPECT_EQ(normalise_stage_range("range:" + std::to_string(n)), ranges[n - 1]);
  EXPECT_EQ(normalise_stage_range("range:4"), "9-10");
  // In data (a manifest's stage_range column) a bare number is refused, never reinterpreted.
  const std::string bare = test::error_text([] { normalise_stage_range("4", false); });
  EXPECT_NE(bare.find("bare number"), std::string::npos) << bare;
  EXPECT_EQ(normalise_stage_range("stage 4", false), "4-6");
  EXPECT_EQ(normalise_stage_range("9-10", false), "9-10");
  EXPECT_EQ(normalise_stage_range("range:4", false), "9-10");
}

TEST(StageParse, ManifestWithABareNumberIsAnErrorNamingTheLine) {
  const std::string dir = test::temp_dir("stage-manifest");
  std::ofstream(dir + "/m.csv") << "image,gene,stage_range,terms\na.png,g,13-16,\nb.png,g,4,\n";
  const std::string e = test::error_text([&] { read_manifest(dir + "/m.csv", false); });
  EXPECT_NE(e.find("m.csv:3"), std::string::npos) << e;
  EXPECT_NE(e.find("bare number"), std::string::npos) << e;
}

TEST(ImageFolderLayout, StageAndGeneStageSubfolders) {
  const std::string dir = test::temp_dir("folder-layout");
  touch(dir + "/loose.png");
  touch(dir + "/13-16/a.png");
  touch(dir + "/stage4-6/b.png");
  touch(dir + "/Kr/stage14/c.png");
  touch(dir + "/Kr/9-10/d.jpg");
  touch(dir + "/Kr/e.png");
  touch(dir + "/14-3-3zeta/11-12/f.png");  // a gene named like numbers
  touch(dir + "/Kr/notes/deeper.png");     // not a stage: not searched
  touch(dir + "/13-16/extra/deeper.png");  // below a stage folder: not searched
  const Dataset ds = read_image_folder(dir);
  std::map<std::string, std::pair<std::string, std::string>> got;  // id -> gene, stage
  for (const auto& im : ds.images) got[im.id] = {im.gene, im.stage_range};
  const std::map<std::string, std::pair<std::string, std::string>> expected = {
      {"loose", {"", ""}},           {"a", {"", "13-16"}},  {"b", {"", "4-6"}},
      {"c", {"Kr", "13-16"}},        {"d", {"Kr", "9-10"}}, {"e", {"Kr", ""}},
      {"f", {"14-3-3zeta", "11-12"}}};
  EXPECT_EQ(got, expected);
  int skipped = 0;
  for (const auto& s : ds.skipped) skipped += s.count;
  EXPECT_EQ(skipped, 2);
  EXPECT_EQ(stage_origin_of(dir), "folder");
  touch(dir + "/4/x.png");
  const std::string e = test::error_text([&] { read_image_folder(dir); });
  EXPECT_NE(e.find("bare number"), std::string::npos) << e;
}

TEST(StageAssignmentTest, CountsByOriginAndWarnsForOneStageOverAFolder) {
  const std::string dir = test::temp_dir("assign");
  for (const char* f : {"a.png", "b.png", "c.png", "13-16/d.png", "13-16/e.png"})
    touch(dir + "/" + f);
  Dataset ds = read_image_folder(dir);
  const StageAssignment a = assign_stages(ds, "folder", {"4", "Kr"});
  EXPECT_EQ(count_of(a, "4-6", "--stage"), 3);
  EXPECT_EQ(count_of(a, "13-16", "folder"), 2);
  EXPECT_EQ(a.genes_from_option, 5);
  EXPECT_EQ(a.without_gene, 0);
  EXPECT_EQ(a.stage_explanation, "stage 4 -> BDGP range 4-6");
  ASSERT_EQ(a.warnings.size(), 1u);
  EXPECT_NE(a.warnings[0].find("3 of 5 images"), std::string::npos) << a.warnings[0];
  const std::string text = stage_assignment_text(a);
  EXPECT_NE(text.find("4-6     3 images  from --stage (stage 4 -> BDGP range 4-6)"),
            std::string::npos)
      << text;
  // Every image without a stage: "the whole folder".
  const std::string plain = test::temp_dir("assign-plain");
  for (const char* f : {"a.png", "b.png"}) touch(plain + "/" + f);
  Dataset p = read_image_folder(plain);
  const StageAssignment w = assign_stages(p, "folder", {"13-16", ""});
  ASSERT_EQ(w.warnings.size(), 1u);
  EXPECT_NE(w.warnings[0].find("the whole folder (2 images)"), std::string::npos);
  EXPECT_EQ(w.without_gene, 2);
  // A manifest gives every stage: --stage and --gene are unused, and said so.
  Dataset m = p;
  for (auto& im : m.images) im.stage_range = "9-10", im.gene = "g";
  const StageAssignment u = assign_stages(m, "manifest", {"14", "Kr"});
  EXPECT_EQ(count_of(u, "9-10", "manifest"), 2);
  EXPECT_EQ(u.warnings.size(), 2u);
  EXPECT_THROW(assign_stages(m, "manifest", {"4-8", ""}), Error);
}

TEST(StageAssignmentTest, DescribeAFolder) {
  const std::string dir = test::temp_dir("describe");
  for (const char* f : {"a.png", "Kr/13-16/b.png", "Kr/13-16/c.png", "eve/4-6/d.png"})
    touch(dir + "/" + f);
  const std::string text = describe_images(read_image_folder(dir), "folder");
  EXPECT_NE(text.find("4 images (folder), 2 genes named"), std::string::npos) << text;
  EXPECT_NE(text.find("13-16        2       1      folder"), std::string::npos) << text;
  EXPECT_NE(text.find("(none)       1       0      nowhere: annotate needs --stage"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("1 images without a gene"), std::string::npos) << text;
}
