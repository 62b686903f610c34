// What the synthetic generator renders: the built-in vocabulary and the groups (gene x stage
// range, terms, images per group), either drawn from the vocabulary or sampled from BDGP's tables.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "detail/rng.h"
#include "ishannot/common/error.h"
#include "ishannot/data/bdgp.h"
#include "ishannot/data/dataset.h"
#include "ishannot/data/synth.h"

namespace ishannot {

std::string SynthParams::check() const {
  if (images < 1) return "synthetic images must be >= 1 (got " + std::to_string(images) + ")";
  if (images > 10000000) return "synthetic images must be <= 10,000,000";
  if (stages.empty()) return "no stage range to generate";
  for (const auto& s : stages) {
    try {
      normalise_stage_range(s);
    } catch (const Error& e) {
      return e.what();
    }
  }
  for (double p : {missing_pattern, weak_pattern, clutter})
    if (!(p >= 0 && p <= 1)) return "probabilities must be in [0, 1]";
  if (!(noise >= 0 && noise <= 64)) return "noise must be in [0, 64]";
  if (threads < 0) return "threads must be >= 0";
  if (!like.empty() && !is_bdgp_table_folder(like))
    return like +
           ": not a BDGP table folder (needs standard_annotations.csv and standard_images.csv)";
  return "";
}

const std::vector<VocabularyTerm>& default_vocabulary() {
  // Top 10 terms per stage range of BDGP's lateral images, share of listed images
  // (../shared/data/bdgp-meta; `ishannot dataset --data ../shared/data/bdgp-meta`).
  static const std::vector<VocabularyTerm> vocabulary = {
      {"4-6", "subset", 0.485},
      {"4-6", "cellular blastoderm", 0.481},
      {"4-6", "ubiquitous", 0.382},
      {"4-6", "dorsal ectoderm anlage in statu nascendi", 0.344},
      {"4-6", "ventral ectoderm anlage in statu nascendi", 0.292},
      {"4-6", "procephalic ectoderm anlage in statu nascendi", 0.286},
      {"4-6", "anlage in statu nascendi", 0.246},
      {"4-6", "posterior endoderm anlage in statu nascendi", 0.141},
      {"4-6", "mesoderm anlage in statu nascendi", 0.129},
      {"4-6", "faint ubiquitous", 0.126},
      {"7-8", "ubiquitous", 0.361},
      {"7-8", "ventral ectoderm primordium P2", 0.352},
      {"7-8", "trunk mesoderm primordium P2", 0.342},
      {"7-8", "posterior endoderm primordium P2", 0.327},
      {"7-8", "head mesoderm primordium P4", 0.320},
      {"7-8", "procephalic ectoderm anlage", 0.306},
      {"7-8", "anterior endoderm anlage", 0.299},
      {"7-8", "dorsal ectoderm primordium", 0.219},
      {"7-8", "faint ubiquitous", 0.191},
      {"7-8", "hindgut anlage", 0.173},
      {"9-10", "trunk mesoderm primordium", 0.382},
      {"9-10", "posterior endoderm primordium", 0.334},
      {"9-10", "head mesoderm primordium P2", 0.327},
      {"9-10", "procephalic ectoderm primordium", 0.313},
      {"9-10", "anterior endoderm primordium", 0.307},
      {"9-10", "ubiquitous", 0.297},
      {"9-10", "ventral ectoderm primordium", 0.255},
      {"9-10", "ventral nerve cord primordium P3", 0.245},
      {"9-10", "inclusive hindgut primordium", 0.211},
      {"9-10", "faint ubiquitous", 0.181},
      {"11-12", "posterior midgut primordium", 0.395},
      {"11-12", "anterior midgut primordium", 0.370},
      {"11-12", "brain primordium", 0.291},
      {"11-12", "trunk mesoderm primordium", 0.259},
      {"11-12", "ventral nerve cord primordium", 0.256},
      {"11-12", "hindgut proper primordium", 0.244},
      {"11-12", "dorsal epidermis primordium", 0.206},
      {"11-12", "ubiquitous", 0.191},
      {"11-12", "foregut primordium", 0.171},
      {"11-12", "ventral epidermis primordium", 0.170},
      {"13-16", "embryonic midgut", 0.349},
      {"13-16", "ventral nerve cord", 0.304},
      {"13-16", "embryonic brain", 0.287},
      {"13-16", "embryonic dorsal epidermis", 0.278},
      {"13-16", "embryonic hindgut", 0.251},
      {"13-16", "embryonic ventral epidermis", 0.251},
      {"13-16", "embryonic central nervous system", 0.206},
      {"13-16", "embryonic/larval muscle system", 0.193},
      {"13-16", "embryonic head epidermis", 0.192},
      {"13-16", "embryonic foregut", 0.170},
  };
  return vocabulary;
}

namespace {

// BDGP's lateral images per stage range (as listed), to share `images` out like the real data.
int bdgp_lateral_images(const std::string& stage) {
  static const std::map<std::string, int> counts = {{"1-3", 2723},   {"4-6", 4964},
                                                    {"7-8", 2572},   {"9-10", 2467},
                                                    {"11-12", 7597}, {"13-16", 7580}};
  return counts.at(stage);
}

// Largest-remainder share of `total` proportional to `weights`.
std::vector<int> share_out(int total, const std::vector<double>& weights) {
  double sum = 0;
  for (double w : weights) sum += w;
  std::vector<int> out(weights.size());
  std::vector<std::pair<double, size_t>> rest;
  int given = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    const double exact = sum > 0 ? total * weights[i] / sum : 0.0;
    out[i] = static_cast<int>(std::floor(exact));
    given += out[i];
    rest.emplace_back(exact - out[i], i);
  }
  std::stable_sort(rest.begin(), rest.end(),
                   [](const auto& x, const auto& y) { return x.first > y.first; });
  for (size_t i = 0; given < total; ++i, ++given) ++out[rest[i % rest.size()].second];
  return out;
}

std::vector<std::string> normalised_stages(const SynthParams& params) {
  std::vector<std::string> stages;
  for (const auto& name : stage_range_names())
    for (const auto& s : params.stages)
      if (normalise_stage_range(s) == name &&
          std::find(stages.begin(), stages.end(), name) == stages.end())
        stages.push_back(name);
  return stages;
}

// Images per group in the built-in mode: 1 + geometric, mean about 3 (BDGP lateral: 2.0-3.7).
int draw_group_size(detail::Rng& rng) {
  int n = 1;
  while (n < 12 && rng.bernoulli(0.62)) ++n;
  return n;
}

std::vector<SynthGroup> plan_builtin(const SynthParams& params,
                                     const std::vector<std::string>& stages,
                                     const std::vector<int>& quota) {
  std::vector<SynthGroup> groups;
  for (size_t s = 0; s < stages.size(); ++s) {
    detail::Rng rng(params.seed, SeedStream::kSynthPlan, {s});
    int left = quota[s];
    for (int g = 0; left > 0; ++g) {
      SynthGroup group;
      char gene[32];
      std::snprintf(gene, sizeof gene, "synth%04d", g + 1);  // gene g spans several stage ranges
      group.gene = gene;
      group.stage_range = stages[s];
      for (const auto& v : default_vocabulary())
        if (v.stage_range == stages[s] && rng.bernoulli(v.frequency)) group.terms.push_back(v.term);
      std::sort(group.terms.begin(), group.terms.end());
      group.images = std::min(left, draw_group_size(rng));
      left -= group.images;
      groups.push_back(std::move(group));
    }
  }
  return groups;
}

std::vector<SynthGroup> plan_like(const SynthParams& params, const std::vector<std::string>& stages,
                                  int total, const Reporter& reporter) {
  const Dataset real = read_bdgp_tables(params.like);
  // Real lateral groups per stage range, in table order.
  std::map<std::string, std::vector<SynthGroup>> real_groups;
  std::map<std::pair<std::string, std::string>, size_t> where;
  for (const auto& im : real.images) {
    if (im.view != "lateral") continue;
    auto& list = real_groups[im.stage_range];
    auto [it, fresh] = where.emplace(std::make_pair(im.gene, im.stage_range), list.size());
    if (fresh) list.push_back({im.gene, im.stage_range, im.terms, 0});
    ++list[it->second].images;
  }
  std::vector<double> weights;
  for (const auto& s : stages) {
    if (real_groups[s].empty()) throw Error(params.like + ": no lateral image at stage range " + s);
    int n = 0;
    for (const auto& g : real_groups[s]) n += g.images;
    weights.push_back(n);
  }
  const auto quota = share_out(total, weights);
  std::vector<SynthGroup> groups;
  for (size_t s = 0; s < stages.size(); ++s) {
    detail::Rng rng(params.seed, SeedStream::kSynthLike, {s});
    auto pool = real_groups[stages[s]];
    int left = quota[s];
    for (int round = 1; left > 0; ++round) {
      rng.shuffle(pool);
      for (const auto& g : pool) {
        if (left == 0) break;
        SynthGroup copy = g;
        if (round > 1) copy.gene += "~" + std::to_string(round);  // a reused group: a new "gene"
        copy.images = std::min(left, g.images);
        left -= copy.images;
        groups.push_back(std::move(copy));
      }
      if (left > 0 && round == 1)
        reporter.info("stage " + stages[s] +
                      ": more images asked than BDGP has; real groups are reused under new gene "
                      "names (suffix ~2, ~3...)");
    }
  }
  return groups;
}

}  // namespace

std::vector<SynthGroup> plan_synthetic_groups(const SynthParams& params, const Reporter& reporter) {
  if (auto problem = params.check(); !problem.empty()) throw Error(problem);
  const auto stages = normalised_stages(params);
  if (!params.like.empty()) return plan_like(params, stages, params.images, reporter);
  std::vector<double> weights;
  for (const auto& s : stages) {
    bool known = false;
    for (const auto& v : default_vocabulary()) known = known || v.stage_range == s;
    if (!known)
      throw Error("stage range " + s + " has no built-in vocabulary (use --like BDGP_META)");
    weights.push_back(bdgp_lateral_images(s));
  }
  return plan_builtin(params, stages, share_out(params.images, weights));
}

}  // namespace ishannot
