// Stratified k-fold grouped by gene. Greedy, in the spirit of scikit-learn's StratifiedGroupKFold:
// genes carrying the rarest terms are placed first, each into the fold where it helps most —
// a fold still lacking a positive of one of its terms, then the fold with the smallest share of
// its terms' positives, then the smallest fold. Ties keep a seeded random gene order.
#include "ishannot/data/splits.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "detail/rng.h"
#include "ishannot/common/error.h"
#include "ishannot/common/seed.h"

namespace ishannot {

std::string GroupedSplitParams::check() const {
  if (folds < 2) return "folds must be >= 2 (got " + std::to_string(folds) + ")";
  return "";
}

std::vector<int> grouped_kfold(const std::vector<std::string>& genes,
                               const std::vector<uint8_t>& labels, int n_terms,
                               const GroupedSplitParams& params) {
  if (auto problem = params.check(); !problem.empty()) throw Error(problem);
  const size_t n = genes.size();
  const int k = labels.empty() ? 0 : n_terms;
  if (k < 0 || (k > 0 && labels.size() != n * static_cast<size_t>(k)))
    throw Error("grouped k-fold: labels hold " + std::to_string(labels.size()) +
                " values, expected " + std::to_string(n) + " items x " + std::to_string(n_terms) +
                " terms");

  // Per gene: item count and positives per term.
  std::unordered_map<std::string, int> gene_index;
  std::vector<int> gene_of(n);
  std::vector<int> gene_size;
  std::vector<std::vector<int>> gene_pos;
  for (size_t i = 0; i < n; ++i) {
    auto [it, fresh] = gene_index.emplace(genes[i], static_cast<int>(gene_size.size()));
    if (fresh) {
      gene_size.push_back(0);
      gene_pos.emplace_back(k, 0);
    }
    const int g = it->second;
    gene_of[i] = g;
    ++gene_size[g];
    for (int t = 0; t < k; ++t) gene_pos[g][t] += labels[i * k + t] ? 1 : 0;
  }
  const int n_genes = static_cast<int>(gene_size.size());
  if (n_genes < params.folds)
    throw Error("grouped k-fold: " + std::to_string(n_genes) + " gene(s) cannot fill " +
                std::to_string(params.folds) + " folds");
  std::vector<double> total(k, 0.0);
  for (int g = 0; g < n_genes; ++g)
    for (int t = 0; t < k; ++t) total[t] += gene_pos[g][t];

  // Order: seeded shuffle, then rarest carried term first, bigger genes first.
  std::vector<int> order(n_genes);
  for (int g = 0; g < n_genes; ++g) order[g] = g;
  detail::Rng rng = detail::Rng::from_derived(params.seed);
  rng.shuffle(order);
  std::vector<double> rarest(n_genes, std::numeric_limits<double>::infinity());
  for (int g = 0; g < n_genes; ++g)
    for (int t = 0; t < k; ++t)
      if (gene_pos[g][t] > 0) rarest[g] = std::min(rarest[g], total[t]);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    if (rarest[a] != rarest[b]) return rarest[a] < rarest[b];
    return gene_size[a] > gene_size[b];
  });

  const int folds = params.folds;
  std::vector<int> fold_size(folds, 0);
  std::vector<std::vector<int>> fold_pos(folds, std::vector<int>(k, 0));
  std::vector<int> fold_of_gene(n_genes, -1);
  for (int g : order) {
    int best = 0;
    double best_cost = std::numeric_limits<double>::infinity();
    for (int f = 0; f < folds; ++f) {
      double cost = fold_size[f] == 0 ? -1e6 : 0.0;  // every fold gets a gene first
      for (int t = 0; t < k; ++t) {
        if (gene_pos[g][t] == 0) continue;
        if (fold_pos[f][t] == 0) cost -= 1.0;  // a fold lacking this term's positives
        cost += fold_pos[f][t] / total[t];
      }
      cost += static_cast<double>(fold_size[f]) / static_cast<double>(n);
      if (cost < best_cost) {
        best_cost = cost;
        best = f;
      }
    }
    fold_of_gene[g] = best;
    fold_size[best] += gene_size[g];
    for (int t = 0; t < k; ++t) fold_pos[best][t] += gene_pos[g][t];
  }
  std::vector<int> fold(n);
  for (size_t i = 0; i < n; ++i) fold[i] = fold_of_gene[gene_of[i]];
  return fold;
}

std::vector<int> grouped_inner_kfold(const std::vector<std::string>& genes,
                                     const std::vector<uint8_t>& labels, int n_terms,
                                     const std::vector<int>& items,
                                     const GroupedSplitParams& params) {
  const int k = labels.empty() ? 0 : n_terms;
  std::vector<std::string> sub_genes;
  std::vector<uint8_t> sub_labels;
  sub_genes.reserve(items.size());
  for (int i : items) {
    if (i < 0 || static_cast<size_t>(i) >= genes.size())
      throw Error("inner k-fold: item index " + std::to_string(i) + " out of range");
    sub_genes.push_back(genes[i]);
    for (int t = 0; t < k; ++t) sub_labels.push_back(labels[static_cast<size_t>(i) * k + t]);
  }
  GroupedSplitParams inner = params;
  inner.seed = derive_seed(params.seed, {stream(SeedStream::kInnerFolds)});
  return grouped_kfold(sub_genes, sub_labels, k, inner);
}

}  // namespace ishannot
