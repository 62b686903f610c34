// Bags of a stage range and their pooled Gram matrices (eval/bags.h).
#include "ishannot/eval/bags.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "ishannot/common/enum_names.h"
#include "ishannot/common/error.h"

namespace ishannot {

constexpr EnumName<EvaluationUnit> kUnitNames[] = {{EvaluationUnit::kImage, "image"},
                                                   {EvaluationUnit::kBag, "bag"}};

EvaluationUnit parse_evaluation_unit(const std::string& name) {
  return parse_enum(kUnitNames, name, "unit");
}

std::string evaluation_unit_name(EvaluationUnit unit) {
  return enum_name(kUnitNames, unit);
}

constexpr EnumName<BagPool> kBagPoolNames[] = {{BagPool::kMean, "mean"},
                                               {BagPool::kMax, "max"},
                                               {BagPool::kMeanMax, "meanmax"},
                                               {BagPool::kAttention, "attention"}};

BagPool parse_bag_pool(const std::string& name) {
  return parse_enum(kBagPoolNames, name, "bag pooling");
}

std::string bag_pool_name(BagPool pool) {
  return enum_name(kBagPoolNames, pool);
}

Bags make_bags(const std::vector<const ImageRecord*>& images, const std::vector<uint8_t>& drop,
               const std::string& source) {
  std::map<std::string, int> bag_of;
  std::map<std::string, std::string> stage_of;
  std::map<std::string, int> dropped_of;
  std::vector<std::string> order;
  std::map<std::string, std::vector<int>> rows_of;
  for (size_t r = 0; r < images.size(); ++r) {
    const ImageRecord& image = *images[r];
    auto [stage, fresh] = stage_of.try_emplace(image.gene, image.stage_range);
    if (fresh) order.push_back(image.gene);
    if (stage->second != image.stage_range)
      throw file_error(source, "the images of gene " + image.gene +
                                   " in one bag have different stage ranges (" + stage->second +
                                   " and " + image.stage_range + ", e.g. image " + image.id +
                                   "): a bag is one gene at one stage range");
    if (!drop.empty() && drop[r])
      ++dropped_of[image.gene];
    else
      rows_of[image.gene].push_back(static_cast<int>(r));
  }
  Bags bags;
  for (const auto& gene : order) {
    auto it = rows_of.find(gene);
    if (it == rows_of.end()) continue;
    bags.genes.push_back(gene);
    bags.rows.push_back(it->second);
    bags.dropped_rows.push_back(dropped_of[gene]);
  }
  return bags;
}

Eigen::MatrixXd mean_pooled_gram(const Eigen::MatrixXd& image_gram, const Bags& bags) {
  const Eigen::Index n = image_gram.rows();
  Eigen::MatrixXd pool = Eigen::MatrixXd::Zero(bags.size(), n);
  for (int b = 0; b < bags.size(); ++b) {
    const auto& rows = bags.rows[static_cast<size_t>(b)];
    for (int r : rows) {
      if (r < 0 || r >= n) throw Error("mean_pooled_gram: a bag row is outside the Gram");
      pool(b, r) = 1.0 / static_cast<double>(rows.size());
    }
  }
  const Eigen::MatrixXd half = pool * image_gram.selfadjointView<Eigen::Lower>();
  Eigen::MatrixXd out = half * pool.transpose();
  return (out + out.transpose()) / 2;  // exactly symmetric
}

void visit_max_pooled(const FeatureStoreReader& store, const std::string& layer,
                      const std::vector<int64_t>& store_rows, const std::vector<double>& scale,
                      const Bags& bags, const GramParams& params,
                      const std::function<void(int64_t, const Eigen::MatrixXd&)>& visit) {
  if (auto problem = params.check(); !problem.empty()) throw Error("gram: " + problem);
  if (scale.size() != store_rows.size()) throw Error("max pooling: one scale per row is needed");
  // Only the rows of some bag are read, each once; local[b] = their positions in `read`.
  std::vector<int64_t> read;
  std::vector<double> read_scale;
  std::vector<std::vector<int>> local(static_cast<size_t>(bags.size()));
  for (int b = 0; b < bags.size(); ++b)
    for (int r : bags.rows[static_cast<size_t>(b)]) {
      if (r < 0 || static_cast<size_t>(r) >= store_rows.size())
        throw Error("max pooling: a bag row is outside the rows given");
      local[static_cast<size_t>(b)].push_back(static_cast<int>(read.size()));
      read.push_back(store_rows[static_cast<size_t>(r)]);
      read_scale.push_back(scale[static_cast<size_t>(r)]);
    }
  const int64_t dim = store.dim(layer);
  const int64_t width_max = std::max<int64_t>(1, std::min(params.slab_columns, dim));
  std::vector<float> slab(read.size() * static_cast<size_t>(width_max));
  Eigen::MatrixXd pooled;
  for (int64_t c0 = 0; c0 < dim; c0 += width_max) {
    const int64_t width = std::min(width_max, dim - c0);
    if (!read.empty()) store.read_block(layer, read, c0, width, slab.data());
    pooled.resize(bags.size(), width);
    for (int b = 0; b < bags.size(); ++b)
      for (int64_t c = 0; c < width; ++c) {
        double best = -std::numeric_limits<double>::infinity();
        for (int i : local[static_cast<size_t>(b)]) {
          double v =
              slab[static_cast<size_t>(i) * static_cast<size_t>(width) + static_cast<size_t>(c)];
          if (!std::isfinite(v)) v = 0;
          best = std::max(best, v * read_scale[static_cast<size_t>(i)]);
        }
        pooled(b, c) = best;
      }
    visit(c0, pooled);
  }
}

Eigen::MatrixXd max_pooled_gram(const FeatureStoreReader& store, const std::string& layer,
                                const std::vector<int64_t>& store_rows,
                                const std::vector<double>& scale, const Bags& bags,
                                const GramParams& params) {
  Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(bags.size(), bags.size());
  visit_max_pooled(store, layer, store_rows, scale, bags, params,
                   [&](int64_t, const Eigen::MatrixXd& pooled) {
                     gram.noalias() += pooled * pooled.transpose();
                   });
  return gram;
}

std::vector<float> pool_bag(const float* rows, int count, int64_t dim,
                            const std::vector<double>& scale, BagPool pool, bool l2_parts) {
  if (count < 1) throw Error("pool_bag: a bag needs at least one image");
  if (pool == BagPool::kAttention)
    throw Error("pool_bag: attention is a learned pooling (learn/attention_mil.h), not a vector");
  if (static_cast<int>(scale.size()) != count) throw Error("pool_bag: one scale per image");
  const auto d = static_cast<size_t>(dim);
  std::vector<double> mean(d, 0.0), max(d, -std::numeric_limits<double>::infinity());
  for (int i = 0; i < count; ++i)
    for (size_t c = 0; c < d; ++c) {
      const double v =
          static_cast<double>(rows[static_cast<size_t>(i) * d + c]) * scale[static_cast<size_t>(i)];
      mean[c] += v / count;
      max[c] = std::max(max[c], v);
    }
  auto unit = [&](std::vector<double>& v) {
    if (!l2_parts) return;
    double norm = 0;
    for (double x : v) norm += x * x;
    if (norm > 0)
      for (double& x : v) x /= std::sqrt(norm);
  };
  std::vector<float> out;
  if (pool != BagPool::kMax) {
    if (pool == BagPool::kMeanMax) unit(mean);
    out.insert(out.end(), mean.begin(), mean.end());
  }
  if (pool != BagPool::kMean) {
    if (pool == BagPool::kMeanMax) unit(max);
    out.insert(out.end(), max.begin(), max.end());
  }
  return out;
}

}  // namespace ishannot
