// The bag level of the evaluation protocol (detail/bag_stage.h): a stage range's image problem
// turned into a problem over gene x stage-range bags with pooled Grams, and the tasks' rows turned
// into group rows afterwards.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "detail/bag_stage.h"
#include "ishannot/common/error.h"
#include "ishannot/eval/metrics.h"

namespace ishannot::detail {

namespace {

// Notes: bags that lost images (to the store or to unusable rows) and genes left without a bag.
void note_lost_images(const Dataset& dataset, const EvaluationStage& stage,
                      const std::string& config, const Bags& bags, std::vector<SkipRow>& skipped) {
  std::map<std::string, int> listed;  // the stage range's images per gene in the dataset
  for (const auto& image : dataset.images)
    if (image.stage_range == stage.name) ++listed[image.gene];
  int lost_bags = 0, empty = 0;
  std::string first_lost, first_empty;
  std::set<std::string> with_bag(bags.genes.begin(), bags.genes.end());
  for (int b = 0; b < bags.size(); ++b) {
    const auto& gene = bags.genes[static_cast<size_t>(b)];
    const int kept = static_cast<int>(bags.rows[static_cast<size_t>(b)].size());
    if (kept < listed[gene] && lost_bags++ == 0)
      first_lost = gene + ": " + std::to_string(kept) + " of " + std::to_string(listed[gene]);
  }
  for (const auto& [gene, count] : listed)
    if (!with_bag.count(gene) && empty++ == 0) first_empty = gene;
  if (lost_bags > 0)
    skipped.push_back({config, stage.name, "", -1,
                       plural(lost_bags, "bag") +
                           " lost images without usable features (pooled from the rest; first: " +
                           first_lost + " images)"});
  if (empty > 0)
    skipped.push_back(
        {config, stage.name, "", -1,
         plural(empty, "gene") + " without any usable image (no bag; first: " + first_empty + ")"});
}

// 1/||x|| per image row (l2) or 1 (none), from the raw Gram's diagonal.
std::vector<double> image_scales(const Eigen::MatrixXd& raw, const EvaluationParams& params) {
  std::vector<double> scale(static_cast<size_t>(raw.rows()), 1.0);
  if (params.preprocessing == Preprocessing::kL2)
    for (Eigen::Index i = 0; i < raw.rows(); ++i)
      scale[static_cast<size_t>(i)] = raw(i, i) > 0 ? 1.0 / std::sqrt(raw(i, i)) : 0.0;
  return scale;
}

}  // namespace

EvaluationStage bag_stage_of(const EvaluationStage& stage, const Bags& bags) {
  EvaluationStage out;
  out.name = stage.name;
  out.index = stage.index;
  out.skip_term = stage.skip_term;
  out.matched.source = stage.matched.source;
  const auto& problem = stage.problem;
  const size_t n_terms = problem.terms.size();
  out.problem.stage_range = problem.stage_range;
  out.problem.terms = problem.terms;
  out.problem.positives.assign(n_terms, 0);
  for (int b = 0; b < bags.size(); ++b) {
    const auto& rows = bags.rows[static_cast<size_t>(b)];
    const ImageRecord& first =
        stage.matched
            .images[static_cast<size_t>(problem.image_indices[static_cast<size_t>(rows.front())])];
    ImageRecord bag;
    bag.id = first.gene;
    bag.gene = first.gene;
    bag.stage_range = first.stage_range;
    bag.terms = first.terms;
    out.matched.images.push_back(bag);
    out.problem.image_indices.push_back(b);
    out.genes.push_back(bags.genes[static_cast<size_t>(b)]);
    out.folds.push_back(stage.folds[static_cast<size_t>(rows.front())]);
    for (size_t t = 0; t < n_terms; ++t) {
      uint8_t label = 0;
      for (int r : rows) label = std::max(label, problem.label(r, static_cast<int>(t)));
      out.problem.labels.push_back(label);
      out.problem.positives[t] += label;
    }
  }
  return out;
}

BagProblem make_bag_problem(const Dataset& dataset, const EvaluationStage& stage,
                            const std::string& config,
                            const std::vector<Eigen::MatrixXd>& image_grams,
                            const std::vector<uint8_t>& bad, const MaxPoolSource& source,
                            const EvaluationParams& params, std::vector<SkipRow>& skipped) {
  const Bags bags = make_bags(problem_images(stage), bad, dataset.source);
  note_lost_images(dataset, stage, config, bags, skipped);
  BagProblem out;
  out.stage = bag_stage_of(stage, bags);
  out.bad.assign(static_cast<size_t>(bags.size()), 0);
  out.bags = bags;
  if (params.bag_pool == BagPool::kAttention) return out;
  const bool l2 = params.preprocessing == Preprocessing::kL2;
  const BagPool pool = params.bag_pool;
  Eigen::MatrixXd max_part;
  if (pool != BagPool::kMean) {
    if (image_grams.size() != 1)
      throw Error(
          "evaluate: max and meanmax bag pooling read one store for every fold (use "
          "--bag-pool mean with one store per fold)");
    const std::vector<double> scale = image_scales(image_grams[0], params);
    for (const auto& layer : source.layers) {
      Eigen::MatrixXd g =
          max_pooled_gram(*source.store, layer, source.rows, scale, bags, params.gram);
      max_part = max_part.size() == 0 ? std::move(g) : Eigen::MatrixXd(max_part + g);
    }
    if (l2 && pool == BagPool::kMeanMax) l2_normalise_gram(max_part);
  }
  for (const auto& raw : image_grams) {
    if (pool == BagPool::kMax) {
      out.grams.push_back(max_part);
      continue;
    }
    Eigen::MatrixXd image = raw;
    if (l2) l2_normalise_gram(image);
    Eigen::MatrixXd mean = mean_pooled_gram(image, bags);
    if (pool == BagPool::kMeanMax) {
      if (l2) l2_normalise_gram(mean);
      mean += max_part;
    }
    out.grams.push_back(std::move(mean));
  }
  return out;
}

void finish_bag_level(EvaluationResult& result, const EvaluationParams& params,
                      const BagSizes& sizes) {
  static const std::set<std::string> renamed = {"auc",         "accuracy",       "sensitivity",
                                                "specificity", "test_positives", "test_negatives"};
  for (auto& m : result.metrics)
    if (renamed.count(m.metric)) m.metric = "group_" + m.metric;
  // group_f1 per (layer, stage range, term, fold), from the bags' votes.
  using Key = std::tuple<std::string, std::string, std::string, int>;
  std::map<Key, std::pair<std::vector<uint8_t>, std::vector<uint8_t>>> votes;
  std::vector<Key> order;
  for (const auto& p : result.predictions) {
    const Key key{p.layer, p.stage_range, p.term, p.fold};
    auto [it, fresh] = votes.try_emplace(key);
    if (fresh) order.push_back(key);
    it->second.first.push_back(static_cast<uint8_t>(p.vote));
    it->second.second.push_back(static_cast<uint8_t>(p.label));
    auto size = sizes.find({p.layer, p.stage_range, p.gene});
    result.group_predictions.push_back({p.gene, p.stage_range, p.layer, p.term, p.fold, p.label,
                                        p.score, p.vote, size == sizes.end() ? 0 : size->second});
  }
  for (const auto& key : order) {
    const auto& [predicted, labels] = votes.at(key);
    if (auto f1 = f1_score(predicted, labels))
      result.metrics.push_back({params.method, std::get<0>(key), std::get<1>(key), std::get<2>(key),
                                std::get<3>(key), "group_f1", *f1});
  }
  result.predictions.clear();
}

}  // namespace ishannot::detail
