// One fold rule for every learner: with non-default term selection (--top-k, --view, --exclude),
// the genes `finetune --fold F/K` and `baseline --fold F/K` learn from are exactly the genes
// outside evaluate's fold F — read from evaluate's predictions.tsv (what evaluate actually did),
// not computed with the fold function. A manifest with dorsal images makes --view matter: the
// same commands under the default view (lateral) make other folds, which the test checks too, so
// it fails if a command ignores the term options.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "ishannot/common/fs_util.h"
#include "ishannot/features/feature_store.h"
#include "support/nets_support.h"
#include "support/test_util.h"

using namespace ishannot;

namespace {

int run(const std::string& command) {
  const int status = std::system((command + " >/dev/null 2>&1").c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Rewrites the manifest so that every third image is a dorsal view.
void make_some_dorsal(const std::string& manifest) {
  std::ifstream in(manifest);
  std::string out, line;
  std::getline(in, line);
  out += line + "\n";
  for (int i = 0; std::getline(in, line); ++i) {
    if (i % 3 == 2) line = line.substr(0, line.rfind(',')) + ",dorsal";
    out += line + "\n";
  }
  std::ofstream(manifest, std::ios::trunc) << out;
}

// Genes of one fold (and of all the others) of stage range 13-16 in evaluate's predictions.tsv.
void evaluate_fold_genes(const std::string& predictions, int fold, std::set<std::string>* in,
                         std::set<std::string>* outside) {
  for (const auto& row : test::read_tsv(predictions)) {
    if (row.at("stage_range") != "13-16") continue;
    (std::stoi(row.at("fold")) == fold ? in : outside)->insert(row.at("gene"));
  }
}

std::set<std::string> lines_of(const std::string& text) {
  std::set<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.insert(line);
  return out;
}

}  // namespace

TEST(FoldAgreement, FinetuneAndBaselineLearnFromTheGenesOutsideEvaluatesFold) {
  ISHANNOT_SKIP_WITHOUT_WEIGHTS();
  const std::string dir = test::temp_dir("fold-agreement");
  const std::string bin = test::ishannot_binary() + " --quiet --threads 2 --seed 77";
  ASSERT_EQ(run(bin + " synth --out " + dir + "/syn --images 150 --stages 13-16"), 0);
  const std::string manifest = dir + "/syn/images.csv";
  make_some_dorsal(manifest);
  const std::string terms = " --view all --top-k 4 --exclude 'embryonic midgut'";

  // SC features of every image; the dictionary learns from fold 1's training genes only.
  ASSERT_EQ(run(bin + " baseline --data " + manifest + " --out " + dir +
                "/sc.h5 --stages 13-16 --fold 1/3" + terms +
                " --atoms 8 --dictionary-images 40 --descriptors-per-image 20 --pooling max"),
            0);
  ASSERT_EQ(run(bin + " evaluate --data " + manifest + " --features " + dir + "/sc.h5 --out " +
                dir + "/eval --stages 13-16 --folds 3 --c-grid 1 --models 1" + terms),
            0);
  std::set<std::string> test_genes, training_genes;
  evaluate_fold_genes(dir + "/eval/predictions.tsv", 1, &test_genes, &training_genes);
  ASSERT_FALSE(test_genes.empty());
  ASSERT_FALSE(training_genes.empty());

  const auto attributes = FeatureStoreReader(dir + "/sc.h5").attributes();
  ASSERT_TRUE(attributes.count("sc_dictionary_genes"));
  EXPECT_EQ(lines_of(attributes.at("sc_dictionary_genes")), training_genes);

  ASSERT_EQ(run(bin + " finetune --data " + manifest + " --stage 13-16 --fold 1/3" + terms +
                " --out " + dir +
                "/ft.pt --epochs 1 --input-size 64x64 --freeze-through res4f "
                "--batch 32 --no-augment"),
            0);
  const auto sidecar = nlohmann::json::parse(read_text_file(dir + "/ft.pt.json"));
  std::set<std::string> seen;
  for (const auto& g : sidecar.at("train_genes")) seen.insert(g.get<std::string>());
  for (const auto& g : sidecar.at("val_genes")) seen.insert(g.get<std::string>());
  EXPECT_EQ(seen, training_genes);

  // The same learner under the default view makes other folds: the options do matter here.
  ASSERT_EQ(run(bin + " baseline --data " + manifest + " --out " + dir +
                "/sc_lateral.h5 --stages 13-16 --fold 1/3 --top-k 4 --exclude 'embryonic midgut'"
                " --atoms 8 --dictionary-images 40 --descriptors-per-image 20 --pooling max"),
            0);
  EXPECT_NE(
      lines_of(FeatureStoreReader(dir + "/sc_lateral.h5").attributes().at("sc_dictionary_genes")),
      training_genes);
  std::filesystem::remove_all(dir);
}
