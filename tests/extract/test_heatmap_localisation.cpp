// Localisation check (issue 11, item 6): synthetic images whose generator says where it painted
// each term (synth --masks), ResNet50 res4f features with the default recipe, a model trained on
// the training genes of fold 0, evidence maps of fold 0's test images. For every planted term the
// model finds (true label, painted, predicted 1), the share of the map's positive evidence that
// lies inside the term's mask is compared with the mask's share of the image: evidence spread
// without regard to place would give exactly that share. docs/ANNOTATE.md ("Localisation")
// gives the measured numbers behind the thresholds.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "ishannot/annotate/annotator.h"
#include "ishannot/annotate/heatmap.h"
#include "ishannot/annotate/recipe.h"
#include "ishannot/annotate/train.h"
#include "ishannot/data/synth.h"
#include "ishannot/image/image.h"
#include "ishannot/nets/backbone.h"
#include "ishannot/nets/extract.h"
#include "support/nets_support.h"
#include "support/test_util.h"

using namespace ishannot;

TEST(HeatmapLocalisation, PlantedTermsEvidenceLiesInTheirMasks) {
  ISHANNOT_SKIP_WITHOUT_WEIGHTS();
  const std::string dir = test::temp_dir("localise");
  SynthParams sp;
  sp.images = 240;
  sp.stages = {"13-16"};
  sp.masks = true;
  const Dataset ds = read_manifest(generate_synthetic(sp, dir + "/syn"));
  ExtractParams xp;  // the default recipe of train (docs/ANNOTATE.md)
  xp.layers = "res4f";
  xp.input_size = "native";
  xp.pool = parse_pool_grid("4x10");
  auto net = load_backbone("resnet50", "");
  extract_features(ds, *net, xp, dir + "/f.h5");
  const FeatureStoreReader store(dir + "/f.h5");
  TrainParams tp;
  tp.fold = 0;
  tp.folds = 3;
  tp.fit.c_grid = {1.0};
  tp.fit.ensemble.models = 5;
  train_model(ds, store, tp, dir + "/m.h5");
  const ModelBundle bundle = read_model_bundle(dir + "/m.h5");
  std::string reason;
  const auto grids = recipe_grids(bundle.recipe, &reason);
  ASSERT_FALSE(grids.empty()) << reason;
  const StageAnnotator annotator(bundle, *bundle.stage("13-16"));
  const std::set<std::string> train_genes(annotator.stage().genes.begin(),
                                          annotator.stage().genes.end());

  std::map<std::pair<std::string, std::string>, std::string> mask_of;  // (image, term) -> file
  for (const auto& r : test::read_csv_rows(dir + "/syn/masks.csv"))
    if (r.at("painted") == "1") mask_of[{r.at("image"), r.at("term")}] = r.at("mask");
  double inside_sum = 0, area_sum = 0;
  int maps = 0, majority = 0;
  for (size_t i = 0; i < ds.images.size(); ++i) {
    const auto& image = ds.images[i];
    if (train_genes.count(image.gene)) continue;  // test genes only
    std::vector<float> x(static_cast<size_t>(annotator.dim()));
    store.read_rows("res4f", {static_cast<int64_t>(i)}, x.data());
    annotator.preprocess(x.data(), 1);
    const BatchScores s = annotator.score(x.data(), 1);
    for (int t = 0; t < s.terms; ++t) {
      const std::string& term = annotator.stage().terms[static_cast<size_t>(t)].term;
      auto mask_file = mask_of.find({image.id, term});
      if (!s.label[static_cast<size_t>(t)] || mask_file == mask_of.end()) continue;
      const cv::Mat mask = read_image_bgr(dir + "/syn/" + mask_file->second);
      const cv::Mat evidence = evidence_density(annotator.contributions(x.data(), t, grids),
                                                mask.cols, mask.rows);
      double inside = 0, total = 0;
      int area = 0;
      for (int y = 0; y < mask.rows; ++y)
        for (int c = 0; c < mask.cols; ++c) {
          const bool in = mask.at<cv::Vec3b>(y, c)[0] > 0;
          const double v = std::max(0.0, evidence.at<double>(y, c));
          total += v;
          if (in) inside += v;
          area += in;
        }
      if (total <= 0) continue;
      inside_sum += inside / total;
      area_sum += static_cast<double>(area) / (mask.rows * mask.cols);
      majority += inside / total > 0.5;
      ++maps;
    }
  }
  ASSERT_GT(maps, 40);
  const double inside = inside_sum / maps, area = area_sum / maps;
  std::printf("  localisation: %d maps, positive evidence inside the mask %.3f, mask area %.3f, "
              "maps with most evidence inside %.3f\n",
              maps, inside, area, static_cast<double>(majority) / maps);
  EXPECT_GT(inside, 0.5);         // most of the positive evidence
  EXPECT_GT(inside, 2.0 * area);  // twice what a placeless map would put there
}
