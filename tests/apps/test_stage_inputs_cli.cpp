// annotate's stage inputs end to end: a folder with a 13-16/ subfolder and loose images given
// `--stage 5` (embryonic stage 5 -> range 4-6, not BDGP's range number 5) and `--gene`; annotate
// prints how many images got which range from where, warns about one --stage over many images,
// and annotations.tsv carries those ranges; `dataset --data FOLDER` describes the folder.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "ishannot/annotate/train.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/features/feature_store.h"
#include "support/annotate_support.h"
#include "support/cli_util.h"
#include "support/test_paths.h"
#include "support/test_util.h"

using namespace ishannot;
namespace fs = std::filesystem;

namespace {

// A bundle (13-16 and 4-6) and its store; the images as empty files in `folder`: 13-16 ones in
// folder/13-16/, 4-6 ones loose.
struct StageFolder {
  std::string dir, folder;
  explicit StageFolder(const std::string& name)
      : dir(test::temp_dir(name)), folder(dir + "/images") {
    const Dataset ds = test::annotate_dataset();
    test::write_map_store(dir + "/f.h5", ds, 9, 2.0);
    TrainParams tp;
    tp.folds = 0;
    tp.layers = {"map"};
    tp.fit.c_grid = {1.0};
    tp.fit.ensemble.models = 5;
    const FeatureStoreReader store(dir + "/f.h5");
    train_model(ds, store, tp, dir + "/m.h5");
    fs::create_directories(folder + "/13-16");
    for (const auto& im : ds.images)
      std::ofstream(folder + (im.stage_range == "13-16" ? "/13-16/" : "/") + im.id + ".png") << "x";
  }
  std::string annotate(const std::string& extra, const std::string& out) const {
    return test::cli() + "annotate --model " + dir + "/m.h5 --features " + dir +
           "/f.h5 --heatmaps 0 --data " + folder + " --out " + dir + "/" + out + " " + extra;
  }
};

std::string stderr_of(const std::string& command, const std::string& file, int& status) {
  status = test::run_status(command + " 2> " + file);
  return read_text_file(file);
}

}  // namespace

TEST(StageInputsCli, AnnotateSaysWhereEachStageRangeCameFrom) {
  const StageFolder s("stage-cli");
  int status = 0;
  // --quiet hides the counts but never the warning.
  const std::string quiet =
      stderr_of(s.annotate("--stage 5 --gene Kr", "o1"), s.dir + "/e1", status);
  ASSERT_EQ(status, 0) << quiet;
  EXPECT_NE(quiet.find("warning: --stage 5 applied to 24 of 114 images"), std::string::npos)
      << quiet;
  std::string loud_cmd = s.annotate("--stage 5", "o2");
  loud_cmd.replace(loud_cmd.find(" --quiet "), 9, " --progress none ");
  const std::string loud = stderr_of(loud_cmd, s.dir + "/e2", status);
  ASSERT_EQ(status, 0) << loud;
  EXPECT_NE(loud.find("  4-6     24 images  from --stage (stage 5 -> BDGP range 4-6)"),
            std::string::npos)
      << loud;
  EXPECT_NE(loud.find("  13-16   90 images  from folder"), std::string::npos) << loud;
  int early = 0;
  for (const auto& row : test::read_tsv(s.dir + "/o1/annotations.tsv")) {
    EXPECT_EQ(row.at("gene"), "Kr");
    if (row.at("image").rfind("4-6_", 0) == 0) {
      EXPECT_EQ(row.at("stage_range"), "4-6");
      ++early;
    }
  }
  EXPECT_GT(early, 0);
  // BDGP's range number 5 is 11-12, which this bundle has no model for: asked for explicitly.
  const std::string range5 = stderr_of(s.annotate("--stage range:5", "o3"), s.dir + "/e3", status);
  EXPECT_EQ(status, 1) << range5;
  EXPECT_NE(range5.find("11-12"), std::string::npos) << range5;
  const std::string spans = stderr_of(s.annotate("--stage 4-8", "o4"), s.dir + "/e4", status);
  EXPECT_EQ(status, 2) << spans;
  EXPECT_NE(spans.find("span two BDGP ranges"), std::string::npos) << spans;
}

// --stage assigns, --stages selects (docs/CLI.md): the plural where the singular was meant leaves
// the 24 loose images without a stage range, and annotate says to give --stage.
TEST(StageInputsCli, StagesWhereStageWasMeantAsksForStage) {
  const StageFolder s("stage-cli-plural");
  int status = 0;
  const std::string plural = stderr_of(s.annotate("--stages 4-6", "o5"), s.dir + "/e5", status);
  EXPECT_EQ(status, 1) << plural;
  EXPECT_NE(plural.find("24 images have no stage range"), std::string::npos) << plural;
  EXPECT_NE(plural.find("give --stage"), std::string::npos) << plural;
  EXPECT_FALSE(fs::exists(s.dir + "/o5/annotations.tsv"));
}

TEST(StageInputsCli, DatasetDescribesAFolder) {
  const StageFolder s("stage-cli-dataset");
  int status = 0;
  const std::string out_file = s.dir + "/out.txt";
  status = test::run_status(test::cli() + "dataset --data " + s.folder + " > " + out_file);
  ASSERT_EQ(status, 0);
  const std::string text = read_text_file(out_file);
  EXPECT_NE(text.find("114 images (folder), 0 genes named"), std::string::npos) << text;
  EXPECT_NE(text.find("13-16        90"), std::string::npos) << text;
  EXPECT_NE(text.find("(none)       24"), std::string::npos) << text;
}
