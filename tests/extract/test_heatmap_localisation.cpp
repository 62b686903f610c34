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
  // Per map: the share of positive evidence inside the mask (pixels) and in the cells the mask
  // touches (the map's own resolution), against the mask's share of the pixels / of the cells.
  double inside_sum = 0, area_sum = 0, cells_in_sum = 0, cells_touched_sum = 0;
  int maps = 0;
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
      const auto cell_maps = annotator.contributions(x.data(), t, grids);
      const cv::Mat evidence = evidence_density(cell_maps, mask.cols, mask.rows);
      const Eigen::MatrixXd& cells = cell_maps[0];
      Eigen::MatrixXi touched = Eigen::MatrixXi::Zero(cells.rows(), cells.cols());
      double inside = 0, total = 0;
      int area = 0;
      for (int y = 0; y < mask.rows; ++y)
        for (int c = 0; c < mask.cols; ++c) {
          const bool in = mask.at<cv::Vec3b>(y, c)[0] > 0;
          const double v = std::max(0.0, evidence.at<double>(y, c));
          total += v;
          if (!in) continue;
          inside += v;
          ++area;
          touched(y * cells.rows() / mask.rows, c * cells.cols() / mask.cols) = 1;
        }
      double cells_in = 0, cells_total = 0;
      for (Eigen::Index r = 0; r < cells.rows(); ++r)
        for (Eigen::Index c = 0; c < cells.cols(); ++c) {
          cells_total += std::max(0.0, cells(r, c));
          if (touched(r, c)) cells_in += std::max(0.0, cells(r, c));
        }
      if (total <= 0) continue;
      inside_sum += inside / total;
      area_sum += static_cast<double>(area) / (mask.rows * mask.cols);
      cells_in_sum += cells_in / cells_total;
      cells_touched_sum += static_cast<double>(touched.sum()) / static_cast<double>(cells.size());
      ++maps;
    }
  }
  ASSERT_GT(maps, 40);
  const double inside = inside_sum / maps, area = area_sum / maps;
  const double cells_in = cells_in_sum / maps, cells_touched = cells_touched_sum / maps;
  std::printf(
      "  localisation: %d maps; pixels: evidence inside the mask %.3f, mask area %.3f; "
      "cells: evidence in the mask's cells %.3f, their share %.3f\n",
      maps, inside, area, cells_in, cells_touched);
  // At the map's resolution, most of the positive evidence lies in the mask's cells, and clearly
  // more than their share of the grid; at pixel level, clearly more than the mask's area.
  EXPECT_GT(cells_in, 0.5);
  EXPECT_GT(cells_in, 1.5 * cells_touched);
  EXPECT_GT(inside, 1.5 * area);
}
