// `evaluate --unit bag` through the CLI (issue 21): metrics.tsv's unit and bag_pool columns,
// the bags' predictions in group_predictions.tsv, and --unit bag with an image level is a usage
// error (exit 2). References: the manifest written here (its genes and images).
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <sstream>

#include "ishannot/common/fs_util.h"
#include "ishannot/data/dataset.h"
#include "support/cli_util.h"
#include "support/store_util.h"
#include "support/test_util.h"

using namespace ishannot;

namespace {

std::string bag_command(const std::string& dir, const std::string& extra) {
  return test::cli() + "evaluate --data " + dir + "/images.csv --features " + dir +
         "/f.h5 --folds 3 --inner-folds 2 --c-grid 0.1,1 --models 3 --inner-models 1 " + extra +
         " --out " + dir + "/out > /dev/null 2> " + dir + "/err.txt";
}

}  // namespace

TEST(EvaluateBags, UnitColumnsAndBagPredictions) {
  const std::string dir = test::temp_dir("eval-bags-cli");
  const std::string manifest = test::write_small_manifest(dir);  // 12 genes x 3 images
  ASSERT_EQ(manifest, dir + "/images.csv");
  test::write_store_for(dir + "/f.h5", read_manifest(manifest, false));
  ASSERT_EQ(test::run_status(bag_command(dir, "--unit bag --bag-pool meanmax")), 0)
      << read_text_file(dir + "/err.txt");
  std::istringstream metrics(read_text_file(dir + "/out/metrics.tsv"));
  std::string line;
  std::getline(metrics, line);
  EXPECT_EQ(line,
            "method\tlayer\tstage_range\tstage_order\tterm\tfold\tmetric\tvalue\tunit\tbag_pool");
  int rows = 0;
  while (std::getline(metrics, line)) {
    ++rows;
    EXPECT_EQ(line.substr(line.size() - 12), "\tbag\tmeanmax") << line;
  }
  EXPECT_GT(rows, 0);
  std::istringstream groups(read_text_file(dir + "/out/group_predictions.tsv"));
  std::getline(groups, line);
  std::set<std::string> genes;
  while (std::getline(groups, line)) {
    EXPECT_NE(line.find("\t3\tbag:meanmax"), std::string::npos) << line;  // 3 images per bag
    genes.insert(line.substr(0, line.find("\t3\tbag")));
  }
  EXPECT_FALSE(genes.empty());
  // The image table is empty: a bag is not an image.
  EXPECT_EQ(read_text_file(dir + "/out/predictions.tsv").find("\n") + 1,
            read_text_file(dir + "/out/predictions.tsv").size());
}

TEST(EvaluateBags, BagUnitWithAnImageLevelIsAUsageError) {
  const std::string dir = test::temp_dir("eval-bags-usage");
  const std::string manifest = test::write_small_manifest(dir);
  test::write_store_for(dir + "/f.h5", read_manifest(manifest, false));
  for (const char* level : {"image", "both"}) {
    EXPECT_EQ(test::run_status(bag_command(dir, std::string("--unit bag --level ") + level)), 2);
    const std::string err = read_text_file(dir + "/err.txt");
    EXPECT_NE(err.find("--unit bag"), std::string::npos) << err;
    EXPECT_EQ(err.find('\n'), err.size() - 1) << err;  // one line
  }
  EXPECT_FALSE(std::filesystem::exists(dir + "/out"));
  EXPECT_EQ(test::run_status(bag_command(dir, "--unit bag --level group")), 0);
}
