#include "ishannot/learn/gram.h"
#include "detail/parallel.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <limits>
#include <mutex>

#ifdef _OPENMP
#include <omp.h>
#else
inline int omp_get_thread_num() {
  return 0;
}
inline int omp_get_max_threads() {
  return 1;
}
#endif

#include "ishannot/common/enum_names.h"
#include "ishannot/common/error.h"
#include "learn/tile_product.h"

namespace ishannot {

constexpr EnumName<Preprocessing> kPreprocessingNames[] = {
    {Preprocessing::kNone, "none"},
    {Preprocessing::kL2, "l2"},
    {Preprocessing::kStandardise, "standardise"},
    {Preprocessing::kStandardise, "standardize"}};

Preprocessing parse_preprocessing(const std::string& name) {
  return parse_enum(kPreprocessingNames, name, "preprocessing");
}

std::string preprocessing_name(Preprocessing p) {
  return enum_name(kPreprocessingNames, p);
}

std::string GramParams::check() const {
  if (slab_columns < 1) return "slab_columns must be >= 1";
  if (tile_rows < 1) return "tile_rows must be >= 1";
  return "";
}

namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// K (lower triangle) += Z Z^T by oneDNN's sgemm, one block of `tile` rows against every row up to
// its own last (the wasted work is half of each diagonal block: tile / 2n of the whole), parallel
// over row blocks, the largest first.
// `buffers`: one product buffer per thread, kept across slabs (a fresh one per slab cost a zero
// fill and page faults).
void accumulate_lower_sgemm(const RowMatrix& z, int64_t tile, Eigen::MatrixXd& k,
                            std::vector<std::vector<float>>& buffers) {
  const int64_t n = z.rows(), w = z.cols();
  const int64_t blocks = (n + tile - 1) / tile;
  detail::LoopErrors errors;
#pragma omp parallel
  {
    std::vector<float>& product = buffers.at(static_cast<size_t>(omp_get_thread_num()));
#pragma omp for schedule(dynamic, 1)
    for (int64_t b = blocks - 1; b >= 0; --b) {
      errors.run(b, [&] {
        const int64_t i0 = b * tile, ni = std::min(tile, n - i0), cols = i0 + ni;
        // product (cols x ni, row-major): row j holds z_j . z_(i0 + i), contiguous in i as K's
        // column j is (column-major).
        product.resize(static_cast<size_t>(cols * ni));
        detail::sgemm_product(z.data(), w, z.data() + i0 * w, w, cols, ni, w, product.data(), ni);
        for (int64_t j = 0; j < cols; ++j) {
          const float* row = product.data() + j * ni;
          for (int64_t i = std::max<int64_t>(0, j - i0); i < ni; ++i) k(i0 + i, j) += row[i];
        }
      });
    }
  }
  errors.rethrow();
}

// K (lower triangle) += Z Z^T, tiled, parallel over tile pairs (tile_product: AVX2 or Eigen).
void accumulate_lower_tiles(const RowMatrix& z, int64_t tile, Eigen::MatrixXd& k) {
  const int64_t n = z.rows();
  const int64_t tiles = (n + tile - 1) / tile;
  std::vector<std::pair<int64_t, int64_t>> pairs;
  for (int64_t i = 0; i < tiles; ++i)
    for (int64_t j = 0; j <= i; ++j) pairs.emplace_back(i, j);
  detail::LoopErrors errors;
#pragma omp parallel for schedule(dynamic)
  for (int64_t p = 0; p < static_cast<int64_t>(pairs.size()); ++p) {
    errors.run(p, [&] {
      const int64_t i0 = pairs[static_cast<size_t>(p)].first * tile;
      const int64_t j0 = pairs[static_cast<size_t>(p)].second * tile;
      const int64_t ni = std::min(tile, n - i0), nj = std::min(tile, n - j0);
      std::vector<float> product(static_cast<size_t>(ni * nj));
      detail::tile_product(z.data() + i0 * z.cols(), z.cols(), z.data() + j0 * z.cols(), z.cols(),
                           ni, nj, z.cols(), product.data());
      for (int64_t j = 0; j < nj; ++j)
        for (int64_t i = 0; i < ni; ++i)
          k(i0 + i, j0 + j) += product[static_cast<size_t>(i * nj + j)];
    });
  }
  errors.rethrow();
}

void accumulate_lower(const RowMatrix& z, int64_t tile, Eigen::MatrixXd& k,
                      std::vector<std::vector<float>>& buffers) {
  if (detail::sgemm_available())
    accumulate_lower_sgemm(z, tile, k, buffers);
  else
    accumulate_lower_tiles(z, tile, k);
}

// Zeroes the non-finite values of a slab's rows and marks their rows in `non_finite`, and marks
// the rows with a non-zero value in `nonzero` (branch-free inner loop: it vectorises; rows in
// parallel). Reading a slab this way takes ~11 % of the paper-size Gram; reading the next slab on a
// second thread during the products was measured slower (102 s vs 94 s: three threads on two
// cores slow the sgemm more than the overlap saves).
void clean_slab(RowMatrix& slab, std::vector<uint8_t>& non_finite, std::vector<uint8_t>& nonzero) {
  const int64_t n = slab.rows(), width = slab.cols();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    float* p = slab.data() + i * width;
    bool bad = false, any = false;
    for (int64_t c = 0; c < width; ++c) {
      const float v = p[c];
      const bool finite = std::fabs(v) <= std::numeric_limits<float>::max();  // false for NaN
      bad |= !finite;
      p[c] = finite ? v : 0.0f;
      any |= p[c] != 0.0f;
    }
    if (bad) non_finite[static_cast<size_t>(i)] = 1;
    if (any) nonzero[static_cast<size_t>(i)] = 1;
  }
}

void symmetrise_from_lower(Eigen::MatrixXd& k) {
  k.triangularView<Eigen::StrictlyUpper>() = k.transpose().triangularView<Eigen::StrictlyUpper>();
}

// Rows whose Gram entries are not finite although their values are: first those with an infinite
// or NaN diagonal (|x|^2 overflowed), then any row with a non-finite product with a row still in.
// Their rows and columns are zeroed so that the rest of the matrix stays finite.
void flag_overflow(std::vector<Eigen::MatrixXd>& grams, std::vector<uint8_t>& overflow) {
  for (auto& k : grams) {
    const Eigen::Index n = k.rows();
    for (Eigen::Index i = 0; i < n; ++i)
      if (!std::isfinite(k(i, i))) overflow[static_cast<size_t>(i)] = 1;
    for (Eigen::Index i = 0; i < n; ++i) {
      if (overflow[static_cast<size_t>(i)]) continue;
      for (Eigen::Index j = 0; j < i; ++j)
        if (!overflow[static_cast<size_t>(j)] && !std::isfinite(k(i, j))) {
          overflow[static_cast<size_t>(i)] = 1;
          break;
        }
    }
  }
  for (auto& k : grams)
    for (Eigen::Index i = 0; i < k.rows(); ++i)
      if (overflow[static_cast<size_t>(i)]) {
        k.row(i).setZero();
        k.col(i).setZero();
      }
}

}  // namespace

GramResult compute_gram(const RowSource& store, const std::string& layer,
                        const std::vector<int64_t>& rows, Preprocessing preprocessing,
                        const std::vector<int>& fold_of, int folds, const GramParams& params,
                        const Reporter& reporter) {
  if (auto problem = params.check(); !problem.empty()) throw Error("gram: " + problem);
  const auto start = std::chrono::steady_clock::now();
  const int64_t n = static_cast<int64_t>(rows.size());
  const int64_t dim = store.dim(layer);
  const bool standardise = preprocessing == Preprocessing::kStandardise;
  if (standardise && (folds < 1 || static_cast<int64_t>(fold_of.size()) != n))
    throw Error("gram: standardise needs the fold of every row");
  const int grams = standardise ? folds : 1;
  GramResult result;
  result.grams.assign(static_cast<size_t>(grams), Eigen::MatrixXd::Zero(n, n));
  result.non_finite.assign(static_cast<size_t>(n), 0);
  result.overflow.assign(static_cast<size_t>(n), 0);
  std::vector<uint8_t> nonzero(static_cast<size_t>(n), 0);
  const int64_t width_max = std::min(params.slab_columns, dim);
  RowMatrix slab(n, width_max), z;
  const int64_t steps = (dim + width_max - 1) / width_max;

  auto read_into = [&](RowMatrix& m, int64_t s) {
    const int64_t c0 = s * width_max, width = std::min(width_max, dim - c0);
    if (m.cols() != width) m.resize(n, width);
    store.read_block(layer, rows, c0, width, m.data());
    clean_slab(m, result.non_finite, nonzero);
  };
  std::vector<std::vector<float>> buffers(static_cast<size_t>(omp_get_max_threads()));

  // Standardise: per-fold column sums first (one extra pass), then training statistics per fold.
  std::vector<Eigen::VectorXd> fold_sum, fold_sumsq;
  std::vector<int64_t> fold_count(static_cast<size_t>(std::max(folds, 1)), 0);
  if (standardise) {
    fold_sum.assign(static_cast<size_t>(folds), Eigen::VectorXd::Zero(dim));
    fold_sumsq = fold_sum;
    for (int64_t i = 0; i < n; ++i)
      ++fold_count[static_cast<size_t>(fold_of[static_cast<size_t>(i)])];
    for (int64_t s = 0; s < steps; ++s) {
      const int64_t c0 = s * width_max, width = std::min(width_max, dim - c0);
      read_into(slab, s);
      for (int64_t i = 0; i < n; ++i) {
        const auto f = static_cast<size_t>(fold_of[static_cast<size_t>(i)]);
        for (int64_t c = 0; c < width; ++c) {
          const double v = slab(i, c);
          fold_sum[f][c0 + c] += v;
          fold_sumsq[f][c0 + c] += v * v;
        }
      }
      reporter.report("statistics " + layer, s + 1, steps);
    }
  }

  for (int64_t s = 0; s < steps; ++s) {
    const int64_t c0 = s * width_max, width = std::min(width_max, dim - c0);
    read_into(slab, s);
    if (!standardise) {
      accumulate_lower(slab, params.tile_rows, result.grams[0], buffers);
    } else {
      Eigen::VectorXd total_sum = Eigen::VectorXd::Zero(width), total_sq = total_sum;
      for (int f = 0; f < folds; ++f) {
        total_sum += fold_sum[static_cast<size_t>(f)].segment(c0, width);
        total_sq += fold_sumsq[static_cast<size_t>(f)].segment(c0, width);
      }
      for (int f = 0; f < folds; ++f) {
        const double count = static_cast<double>(n - fold_count[static_cast<size_t>(f)]);
        Eigen::RowVectorXf mean(width), scale(width);
        for (int64_t c = 0; c < width; ++c) {
          const double sum = total_sum[c] - fold_sum[static_cast<size_t>(f)][c0 + c];
          const double sq = total_sq[c] - fold_sumsq[static_cast<size_t>(f)][c0 + c];
          const double mu = count > 0 ? sum / count : 0.0;
          const double var = count > 0 ? std::max(0.0, sq / count - mu * mu) : 0.0;
          mean[c] = static_cast<float>(mu);
          scale[c] = var > 1e-12 ? static_cast<float>(1.0 / std::sqrt(var)) : 0.0f;
        }
        z = (slab.rowwise() - mean).array().rowwise() * scale.array();
        accumulate_lower(z, params.tile_rows, result.grams[static_cast<size_t>(f)], buffers);
      }
    }
    reporter.report("gram " + layer, s + 1, steps);
  }
  for (auto& k : result.grams) symmetrise_from_lower(k);
  flag_overflow(result.grams, result.overflow);
  result.all_zero.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    result.all_zero[static_cast<size_t>(i)] =
        !nonzero[static_cast<size_t>(i)] && !result.non_finite[static_cast<size_t>(i)];
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

std::vector<UnusableRows> unusable_rows(const GramResult& g, std::vector<uint8_t>& bad) {
  const std::pair<const std::vector<uint8_t>*, const char*> kinds[] = {
      {&g.non_finite, " with NaN/Inf features"},
      {&g.overflow, " with features too large for the Gram (overflow)"},
      {&g.all_zero, " whose features are all zero (never written?)"}};
  std::vector<UnusableRows> out;
  for (const auto& [flags, what] : kinds) {
    UnusableRows kind{what, {}};
    if (bad.size() < flags->size()) bad.resize(flags->size(), 0);
    for (size_t i = 0; i < flags->size(); ++i)
      if ((*flags)[i]) {
        kind.rows.push_back(static_cast<int>(i));
        bad[i] = 1;
      }
    if (!kind.rows.empty()) out.push_back(std::move(kind));
  }
  return out;
}

void l2_normalise_gram(Eigen::MatrixXd& gram) {
  const Eigen::VectorXd d = gram.diagonal();
  Eigen::VectorXd inv(d.size());
  for (Eigen::Index i = 0; i < d.size(); ++i) inv[i] = d[i] > 0 ? 1.0 / std::sqrt(d[i]) : 0.0;
  gram = inv.asDiagonal() * gram * inv.asDiagonal();
}

}  // namespace ishannot
