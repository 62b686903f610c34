// The report's "image vs bag" figure (issue 21): which bars it draws and their values, checked
// against means worked by hand from the metric rows given here.
#include <gtest/gtest.h>

#include "ishannot/report/figures.h"

using namespace ishannot;

namespace {

EvaluationRun run_of(const std::string& unit, const std::vector<MetricRow>& metrics) {
  EvaluationRun run;
  run.dir = unit;
  run.run = {{"config", {{"unit", unit}, {"bag_pool", "max"}, {"group_rule", "mean"}}}};
  run.metrics = metrics;
  return run;
}

double value_of(const Figure& f, const std::string& learner_prefix, const std::string& measure) {
  for (const auto& row : f.spec["data"]["values"])
    if (row["learner"].get<std::string>().rfind(learner_prefix, 0) == 0 &&
        row["measure"] == measure)
      return row["value"].get<double>();
  return -1;
}

}  // namespace

TEST(BagFigure, ImageAggregatedAndBagBarsWithMeansOverTerms) {
  // Image run: auc of terms a (folds 0.8, 0.6 -> 0.7) and b (0.9) -> 0.8; group_auc a 1.0, b 0.9.
  const EvaluationRun image = run_of("image", {{"TL", "res4f", "13-16", "a", 0, "auc", 0.8},
                                               {"TL", "res4f", "13-16", "a", 1, "auc", 0.6},
                                               {"TL", "res4f", "13-16", "b", 0, "auc", 0.9},
                                               {"TL", "res4f", "13-16", "a", 0, "group_auc", 1.0},
                                               {"TL", "res4f", "13-16", "b", 0, "group_auc", 0.9},
                                               {"TL", "res4f", "13-16", "a", 0, "C", 10}});
  // Bag run: group_auc a 0.95, b (0.9, 1.0 -> 0.95) -> 0.95; group_f1 a 0.5, b 0.7 -> 0.6.
  const EvaluationRun bag = run_of("bag", {{"TL", "res4f", "13-16", "a", 0, "group_auc", 0.95},
                                           {"TL", "res4f", "13-16", "b", 0, "group_auc", 0.9},
                                           {"TL", "res4f", "13-16", "b", 1, "group_auc", 1.0},
                                           {"TL", "res4f", "13-16", "a", 0, "group_f1", 0.5},
                                           {"TL", "res4f", "13-16", "b", 0, "group_f1", 0.7}});
  EXPECT_FALSE(bag_figure({image}).has_value());  // no bag run: no figure
  const auto figure = bag_figure({image, bag});
  ASSERT_TRUE(figure.has_value());
  EXPECT_EQ(figure->id, "image-vs-bag");
  EXPECT_NEAR(value_of(*figure, "image ·", "mean AUC"), 0.8, 1e-12);
  EXPECT_NEAR(value_of(*figure, "aggregated images (mean)", "mean AUC"), 0.95, 1e-12);
  EXPECT_NEAR(value_of(*figure, "bag (max)", "mean AUC"), 0.95, 1e-12);
  EXPECT_NEAR(value_of(*figure, "bag (max)", "macro-F1"), 0.6, 1e-12);
  EXPECT_EQ(figure->spec["data"]["values"].size(), 4u);  // C is not drawn
}
