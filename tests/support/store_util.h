#pragma once
// A small feature store for a dataset, written with our writer: layer "feat", 12 float32 values
// per image, a per-term pattern plus noise (learnable terms). `edit(id, row)` may change a row
// before it is written (a huge value, an all-zero row...).
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "ishannot/data/dataset.h"
#include "ishannot/features/feature_store.h"

namespace ishannot::test {

inline void write_store_for(const std::string& path, const Dataset& ds, unsigned seed = 3,
                            const std::function<void(const std::string&, float*)>& edit = {}) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::map<std::string, std::vector<float>> pattern;
  std::vector<std::string> ids;
  std::vector<float> values;
  for (const auto& image : ds.images) {
    std::vector<float> x(12);
    for (auto& v : x) v = normal(rng);
    for (const auto& t : image.terms) {
      auto& p = pattern[t];
      if (p.empty())
        for (int j = 0; j < 12; ++j) p.push_back(2.0f * normal(rng));
      for (int j = 0; j < 12; ++j) x[static_cast<size_t>(j)] += p[static_cast<size_t>(j)];
    }
    if (edit) edit(image.id, x.data());
    ids.push_back(image.id);
    values.insert(values.end(), x.begin(), x.end());
  }
  FeatureStoreWriter w(path, {{"feat", 12, "12x1x1"}}, FeatureDtype::kFloat32,
                       {{"backbone", "synthetic"}});
  w.append(ids, {{"feat", values.data()}});
  w.close();
}

}  // namespace ishannot::test
