#pragma once
// Helpers for the train/annotate tests: a small labelled dataset over two stage ranges and a
// feature store whose one layer is a C x H x W map where each term lights its own cell (so the
// evidence of a term has a known place), written with the attributes a recipe compares.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "detail/rng.h"
#include "ishannot/data/dataset.h"
#include "ishannot/features/feature_store.h"
#include "ishannot/features/store_attributes.h"

namespace ishannot::test {

/// 30 genes x 3 images at 13-16 and 12 genes x 2 images at 4-6; terms drawn per gene.
inline Dataset annotate_dataset() {
  Dataset ds;
  ds.source = "synthetic-annotate";
  detail::Rng rng = detail::Rng::from_derived(7);
  const std::vector<std::string> late = {"t_brain", "t_gut", "t_cord", "t_rare"};
  const std::vector<std::string> early = {"e_cap", "e_band"};
  auto add_stage = [&](const std::string& stage, const std::vector<std::string>& terms, int genes,
                       int per_gene) {
    for (int g = 0; g < genes; ++g) {
      std::vector<std::string> gene_terms;
      for (size_t t = 0; t < terms.size(); ++t)
        if (rng.uniform() < (t + 1 == terms.size() ? 0.2 : 0.45)) gene_terms.push_back(terms[t]);
      for (int i = 0; i < per_gene; ++i) {
        ImageRecord r;
        r.gene = "gene" + std::to_string(g);
        r.id = stage + "_g" + std::to_string(g) + "_" + std::to_string(i);
        r.stage_range = stage;
        r.view = "lateral";
        r.terms = gene_terms;
        ds.images.push_back(r);
      }
    }
  };
  add_stage("13-16", late, 30, 3);
  add_stage("4-6", early, 12, 2);
  return ds;
}

/// Map geometry of the synthetic layer "map": channels x rows x cols.
constexpr int kChannels = 6, kRows = 2, kCols = 3;

/// The cell (row-major index) that term `term` lights up.
inline int term_cell(const std::string& term) {
  static const std::map<std::string, int> cells = {{"t_brain", 0}, {"t_gut", 2}, {"t_cord", 4},
                                                   {"t_rare", 5},  {"e_cap", 1}, {"e_band", 3}};
  auto it = cells.find(term);
  return it == cells.end() ? 0 : it->second;
}

/// A store with layer "map" (shape "6x2x3", pooling "none") and a vector layer "vec" (8 values):
/// noise plus, for each term of an image, `signal` in its cell's channels. `attributes` go to the
/// root (backbone, weights_sha256, input_size, pooling... as a recipe).
inline void write_map_store(const std::string& path, const Dataset& ds, uint64_t seed,
                            double signal = 1.5, std::map<std::string, std::string> attributes = {},
                            FeatureDtype dtype = FeatureDtype::kFloat32, bool with_genes = false) {
  detail::Rng rng = detail::Rng::from_derived(seed);
  const int dim = kChannels * kRows * kCols;
  if (!attributes.count("backbone")) attributes["backbone"] = "synthetic";
  if (!attributes.count("weights_sha256")) attributes["weights_sha256"] = "abc123";
  if (!attributes.count("input_size")) attributes["input_size"] = "96x64";
  if (!attributes.count("pooling")) attributes["pooling"] = "none";
  FeatureStoreWriter w(path, {{"map", dim, "6x2x3"}, {"vec", 8, "8"}}, dtype, attributes);
  std::vector<std::string> ids;
  std::vector<float> map, vec;
  for (const auto& image : ds.images) {
    ids.push_back(image.id);
    std::vector<float> x(static_cast<size_t>(dim));
    for (auto& v : x) v = static_cast<float>(0.6 * rng.normal() + 1.0);
    for (const auto& t : image.terms)
      for (int c = 0; c < kChannels; ++c)
        x[static_cast<size_t>(c * kRows * kCols + term_cell(t))] +=
            static_cast<float>(signal * (1.0 + 0.3 * rng.normal()) * (c % 2 ? 1 : 0.5));
    map.insert(map.end(), x.begin(), x.end());
    for (int j = 0; j < 8; ++j) vec.push_back(static_cast<float>(rng.normal()));
  }
  w.append(ids, {{"map", map.data()}, {"vec", vec.data()}});
  if (with_genes) set_dataset_metadata(w, ds);  // /meta/gene and /meta/stage_range, as extract
  w.close();
}

}  // namespace ishannot::test
