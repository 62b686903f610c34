// The leakage guard holds for a library user, not only for the CLI: a network fine-tuned through
// the library, extracted through the library (extract_features with the backbone that
// load_finetuned_model returns), gives a store that names the genes the network saw, and
// evaluate refuses it for folds whose test genes it saw. Reference: the genes are listed from the
// dataset by hand (fine-tuning read every image, so every gene), not from the model's sidecar.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>
#include <sstream>

#include "ishannot/common/error.h"
#include "ishannot/eval/evaluation.h"
#include "ishannot/features/feature_store.h"
#include "ishannot/features/store_attributes.h"
#include "ishannot/nets/extract.h"
#include "ishannot/nets/finetune.h"
#include "support/test_paths.h"
#include "support/test_util.h"
#include "support/tiny_backbone.h"

using namespace ishannot;

TEST(LeakageGuard, LibraryExtractionWithAFinetunedNetworkIsRefusedOnTheGenesItSaw) {
  const std::string dir = test::temp_dir("leak-library");
  const Dataset d = test::tiny_dataset(dir, 6, 4, 3);
  TermSelectionParams terms;
  terms.top_k = 3;
  terms.view = "";
  const StageProblem problem = select_terms(d, "4-6", terms);
  std::vector<int> rows;
  for (int r = 0; r < problem.rows(); ++r) rows.push_back(r);

  FinetuneParams p;
  p.head.cut = "conv3";
  p.head.freeze_through = "pool1";
  p.head.hidden = 4;
  p.input_size = "32x32";
  p.batch = 6;
  p.epochs = 1;
  p.val_fraction = 0.34;
  p.seed = 5;
  const std::string model_path = dir + "/tuned.pt";
  ASSERT_TRUE(
      finetune(d, problem, rows, std::make_shared<test::TinyBackbone>(7), p, model_path).finished);

  // The library path a user would take: load, extract — no CLI, no extra attributes by hand.
  const FinetunedModel model =
      load_finetuned_model(model_path, std::make_shared<test::TinyBackbone>(9));
  ExtractParams extract;
  extract.layers = "conv3";
  extract.input_size = "32x32";
  extract.batch = 4;
  const std::string store_path = dir + "/tuned.h5";
  extract_features(d, *model.net->backbone_ptr(), extract, store_path);

  FeatureStoreReader store(store_path);
  const auto attributes = store.attributes();
  ASSERT_TRUE(attributes.count(store_attr::kFinetuneGenes)) << "the store does not name the genes";
  std::set<std::string> stamped, expected;
  std::istringstream lines(attributes.at(store_attr::kFinetuneGenes));
  for (std::string gene; std::getline(lines, gene);)
    if (!gene.empty()) stamped.insert(gene);
  for (const auto& image : d.images) expected.insert(image.gene);
  EXPECT_EQ(stamped, expected);
  EXPECT_EQ(attributes.at(store_attr::kFinetuneStageRange), "4-6");
  EXPECT_EQ(attributes.at("weights_path"), model_path);

  EvaluationParams params;
  params.folds = 3;
  params.fit.inner_folds = 2;
  params.fit.c_grid = {1};
  params.fit.ensemble.models = 1;
  params.fit.inner_models = 1;
  params.terms.top_k = 3;
  params.terms.view = "";
  const std::string message = test::error_text([&] { run_evaluation(d, store, params); });
  EXPECT_NE(message.find("tuned.h5"), std::string::npos) << message;
  EXPECT_NE(message.find("fine-tuned on gene"), std::string::npos) << message;
}
