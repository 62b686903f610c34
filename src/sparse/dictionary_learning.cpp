// Online dictionary learning (Mairal et al. 2009) from a k-means start (see dictionary.h).
extern "C" {
#include <vl/kmeans.h>
}

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <numeric>

#include "detail/rng.h"
#include "ishannot/common/error.h"
#include "ishannot/sparse/dictionary.h"
#include "ishannot/sparse/sparse_coding.h"

namespace ishannot {
namespace {

// Columns with a non-zero norm (low-contrast descriptors are stored as zeros).
Eigen::MatrixXf informative_columns(const Eigen::MatrixXf& samples) {
  std::vector<Eigen::Index> keep;
  for (Eigen::Index j = 0; j < samples.cols(); ++j) {
    if (samples.col(j).squaredNorm() > 0) keep.push_back(j);
  }
  Eigen::MatrixXf out(samples.rows(), static_cast<Eigen::Index>(keep.size()));
  for (size_t t = 0; t < keep.size(); ++t)
    out.col(static_cast<Eigen::Index>(t)) = samples.col(keep[t]);
  return out;
}

std::vector<Eigen::Index> permutation(Eigen::Index n, detail::Rng& rng) {
  std::vector<Eigen::Index> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), Eigen::Index{0});
  rng.shuffle(order);
  return order;
}

// Replaces (near-)zero columns by random unit samples and normalises every column.
template <typename Matrix>
void normalise_atoms(Matrix& atoms, const Eigen::MatrixXf& samples, detail::Rng& rng) {
  for (Eigen::Index j = 0; j < atoms.cols(); ++j) {
    if (atoms.col(j).norm() < 1e-6)
      atoms.col(j) = samples.col(static_cast<Eigen::Index>(rng.below(samples.cols())))
                         .template cast<typename Matrix::Scalar>();
    atoms.col(j) /= atoms.col(j).norm();
  }
}

// Greedy k-means++ seeding (Arthur & Vassilvitskii 2007, section 5; scikit-learn's default): each
// centre after the first is the best of 2 + ln(K) candidates drawn by D^2 sampling (the one that
// lowers the summed squared distance most). Plain k-means++ puts two centres into one of K
// well-separated clusters in ~10 % of starts (measured: 6 clusters, 96 points), a local optimum
// Lloyd/Elkan iterations never leave.
Eigen::MatrixXf kmeans_plus_plus(const Eigen::MatrixXf& data, int atoms, detail::Rng& rng) {
  const Eigen::Index n = data.cols();
  const int trials = 2 + static_cast<int>(std::log(static_cast<double>(atoms)));
  auto dist2_to = [&](Eigen::Index j) {
    return (data.colwise() - data.col(j)).colwise().squaredNorm().transpose().cast<double>().eval();
  };
  auto draw = [&](const Eigen::VectorXd& dist2, double total) {
    double target = rng.uniform() * total;
    for (Eigen::Index j = 0; j < n; ++j) {
      target -= dist2[j];
      if (target <= 0) return j;
    }
    return n - 1;
  };
  Eigen::MatrixXf centers(data.rows(), atoms);
  Eigen::Index next = static_cast<Eigen::Index>(rng.below(static_cast<uint64_t>(n)));
  Eigen::VectorXd dist2 = dist2_to(next);
  centers.col(0) = data.col(next);
  for (int c = 1; c < atoms; ++c) {
    const double total = dist2.sum();
    if (!(total > 0)) {  // fewer distinct points than centres: take any
      next = static_cast<Eigen::Index>(rng.below(static_cast<uint64_t>(n)));
      centers.col(c) = data.col(next);
      continue;
    }
    Eigen::VectorXd best;
    double best_potential = std::numeric_limits<double>::infinity();
    for (int t = 0; t < trials; ++t) {
      const Eigen::Index candidate = draw(dist2, total);
      Eigen::VectorXd updated = dist2.cwiseMin(dist2_to(candidate));
      const double potential = updated.sum();
      if (potential < best_potential) {
        best_potential = potential;
        best = std::move(updated);
        next = candidate;
      }
    }
    centers.col(c) = data.col(next);
    dist2 = std::move(best);
  }
  return centers;
}

}  // namespace

std::string DictionaryLearningParams::check() const {
  if (atoms < 1) return "dictionary: size must be >= 1 (got " + std::to_string(atoms) + ")";
  if (!(lambda > 0)) return "dictionary: lambda must be > 0";
  if (batch_size < 1) return "dictionary: batch size must be >= 1";
  if (epochs < 1) return "dictionary: epochs must be >= 1";
  if (kmeans_iterations < 0) return "dictionary: k-means iterations must be >= 0";
  return "";
}

Eigen::MatrixXf kmeans_atoms(const Eigen::MatrixXf& samples, int atoms, int iterations,
                             uint64_t seed) {
  if (samples.cols() < atoms) {
    throw Error("dictionary: " + std::to_string(samples.cols()) +
                " informative descriptors are fewer than the " + std::to_string(atoms) + " atoms");
  }
  detail::Rng rng(seed, SeedStream::kDictionaryInit);
  // k-means on at most 16 K samples (Elkan keeps n x K bounds), started from K distinct samples.
  auto order = permutation(samples.cols(), rng);
  const Eigen::Index n = std::min<Eigen::Index>(samples.cols(), Eigen::Index{16} * atoms);
  Eigen::MatrixXf data(samples.rows(), n);
  for (Eigen::Index j = 0; j < n; ++j) data.col(j) = samples.col(order[static_cast<size_t>(j)]);
  Eigen::MatrixXf centers = kmeans_plus_plus(data, atoms, rng);
  if (iterations > 0) {
    std::unique_ptr<VlKMeans, void (*)(VlKMeans*)> km(vl_kmeans_new(VL_TYPE_FLOAT, VlDistanceL2),
                                                      vl_kmeans_delete);
    vl_kmeans_set_algorithm(km.get(), VlKMeansElkan);
    vl_kmeans_set_max_num_iterations(km.get(), static_cast<vl_size>(iterations));
    vl_kmeans_set_centers(km.get(), centers.data(), static_cast<vl_size>(samples.rows()),
                          static_cast<vl_size>(atoms));
    vl_kmeans_refine_centers(km.get(), data.data(), static_cast<vl_size>(n));
    const auto* c = static_cast<const float*>(vl_kmeans_get_centers(km.get()));
    centers = Eigen::Map<const Eigen::MatrixXf>(c, samples.rows(), atoms);
  }
  normalise_atoms(centers, data, rng);
  return centers;
}

namespace {

// A += a a^T and B += x a^T over a batch's sparse codes a (Mairal et al. 2009, algorithm 1).
void accumulate_codes(const Eigen::MatrixXf& batch, const SparseCodes& codes,
                      Eigen::MatrixXd& a_acc, Eigen::MatrixXd& b_acc) {
  for (int j = 0; j < codes.count(); ++j) {
    const Eigen::VectorXd x = batch.col(j).cast<double>();
    for (int64_t p = codes.start[j]; p < codes.start[j + 1]; ++p) {
      const double ap = codes.value[p];
      b_acc.col(codes.index[p]) += ap * x;
      for (int64_t q = codes.start[j]; q < codes.start[j + 1]; ++q) {
        a_acc(codes.index[q], codes.index[p]) += ap * codes.value[q];
      }
    }
  }
}

// One block-coordinate-descent pass over the atoms (warm start from the previous step).
void update_atoms(const Eigen::MatrixXd& a_acc, const Eigen::MatrixXd& b_acc,
                  Eigen::MatrixXd& atoms) {
  for (Eigen::Index j = 0; j < atoms.cols(); ++j) {
    const double ajj = a_acc(j, j);
    if (ajj < 1e-10) continue;
    Eigen::VectorXd u = atoms.col(j) + (b_acc.col(j) - atoms * a_acc.col(j)) / ajj;
    atoms.col(j) = u / std::max(u.norm(), 1.0);
  }
}

}  // namespace

Dictionary learn_dictionary(const Eigen::MatrixXf& all_samples,
                            const DictionaryLearningParams& params, const Reporter& reporter) {
  if (auto problem = params.check(); !problem.empty()) throw Error(problem);
  const Eigen::MatrixXf samples = informative_columns(all_samples);
  const int k = params.atoms;
  reporter.info("dictionary: " + std::to_string(samples.cols()) + " informative descriptors of " +
                std::to_string(all_samples.cols()) + ", " + std::to_string(k) + " atoms");
  Eigen::MatrixXd atoms =
      kmeans_atoms(samples, k, params.kmeans_iterations, params.seed).cast<double>();
  detail::Rng rng(params.seed, SeedStream::kDictionaryOrder);

  SparseCodingParams coding;
  coding.lambda = params.lambda;
  coding.tolerance = 1e-4;
  coding.max_sweeps = 200;
  const Eigen::Index d = samples.rows();
  Eigen::MatrixXd a_acc = Eigen::MatrixXd::Zero(k, k);  // A = sum a a^T (forgetting)
  Eigen::MatrixXd b_acc = Eigen::MatrixXd::Zero(d, k);  // B = sum x a^T
  const Eigen::Index eta = std::min<Eigen::Index>(params.batch_size, samples.cols());
  const Eigen::Index batches_per_epoch = (samples.cols() + eta - 1) / eta;
  const int64_t total = batches_per_epoch * params.epochs;
  int64_t t = 0;
  for (int epoch = 0; epoch < params.epochs; ++epoch) {
    const auto order = permutation(samples.cols(), rng);
    for (Eigen::Index b = 0; b < batches_per_epoch; ++b) {
      const Eigen::Index begin = b * eta, end = std::min(samples.cols(), begin + eta);
      Eigen::MatrixXf batch(d, end - begin);
      for (Eigen::Index j = begin; j < end; ++j) batch.col(j - begin) = samples.col(order[j]);
      const SparseCoder coder(atoms.cast<float>(), coding);
      // Clean step (as SPAMS does): an atom that (nearly) duplicates an earlier one, or that no
      // descriptor has used after a few batches, is re-seeded with a descriptor of this batch.
      bool reseeded = false;
      for (int j = 0; j < k; ++j) {
        bool dead = t >= 10 && a_acc(j, j) < 1e-10;
        for (int i = 0; i < j && !dead; ++i) dead = std::abs(coder.gram()(i, j)) > 0.99;
        if (!dead) continue;
        atoms.col(j) = batch.col(static_cast<Eigen::Index>(rng.below(batch.cols())))
                           .cast<double>()
                           .normalized();
        a_acc.row(j).setZero();
        a_acc.col(j).setZero();
        b_acc.col(j).setZero();
        reseeded = true;
      }
      const SparseCoder fresh = reseeded ? SparseCoder(atoms.cast<float>(), coding) : coder;
      const SparseCodes codes = fresh.encode(batch);
      // Past-forgetting factor beta_t (Mairal et al. 2009, section 3.4.3).
      const double theta = t < eta ? double(t * eta) : double(eta * eta + t - eta);
      const double beta = (theta + 1 - eta) / (theta + 1);
      if (t > 0) {
        a_acc *= std::max(0.0, beta);
        b_acc *= std::max(0.0, beta);
      }
      accumulate_codes(batch, codes, a_acc, b_acc);
      update_atoms(a_acc, b_acc, atoms);
      ++t;
      reporter.report("dictionary learning", t, total);
    }
  }
  int unused = 0;
  for (int j = 0; j < k; ++j) {
    if (a_acc(j, j) < 1e-10) {
      atoms.col(j) =
          samples.col(static_cast<Eigen::Index>(rng.below(samples.cols()))).cast<double>();
      ++unused;
    }
  }
  if (unused > 0) {
    reporter.info("dictionary: " + std::to_string(unused) +
                  " unused atoms re-seeded with descriptors");
  }
  normalise_atoms(atoms, samples, rng);
  Dictionary out;
  out.atoms = atoms.cast<float>();
  out.provenance["atoms"] = std::to_string(k);
  out.provenance["lambda"] = std::to_string(params.lambda);
  out.provenance["batch_size"] = std::to_string(params.batch_size);
  out.provenance["epochs"] = std::to_string(params.epochs);
  out.provenance["kmeans_iterations"] = std::to_string(params.kmeans_iterations);
  out.provenance["seed"] = std::to_string(params.seed);
  out.provenance["training_descriptors"] = std::to_string(samples.cols());
  out.provenance["unused_atoms_reseeded"] = std::to_string(unused);
  return out;
}

}  // namespace ishannot
