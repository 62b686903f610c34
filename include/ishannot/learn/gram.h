#pragma once
// Block-wise Gram matrices K = X X^T streamed from a RowSource (the feature store, or any
// other; learn never sees HDF5): the file is read once, in
// column slabs of all requested rows (n x slab_columns floats at a time), and K is accumulated
// tile by tile (lower triangle, float products summed into double). The feature matrix itself is
// never in memory: peak memory is K (n^2 doubles per Gram) plus one slab.
//
// Preprocessing in kernel form:
//   none        K = X X^T
//   l2          each image scaled to unit norm: K_ij / sqrt(K_ii K_jj), exact from the raw Gram
//               (applied by l2_normalise_gram after summing layers, i.e. on the concatenation)
//   standardise per dimension (x - mean) / std with mean and std fitted on the TRAINING rows of
//               each outer fold only: one Gram per fold (dimensions with zero training variance
//               are dropped). Inner CV reuses its outer fold's statistics (no test leakage).
#include <Eigen/Dense>
#include <cstdint>
#include <string>
#include <vector>

#include "ishannot/common/progress.h"
#include "ishannot/features/row_source.h"

namespace ishannot {

enum class Preprocessing { kNone, kL2, kStandardise };

/// "none" | "l2" | "standardise" (also "standardize"); Error otherwise.
Preprocessing parse_preprocessing(const std::string& name);
std::string preprocessing_name(Preprocessing p);

struct GramParams {
  int64_t slab_columns = 8192;  ///< columns read per pass step (memory: rows x this x 4 bytes)
  int64_t tile_rows = 256;      ///< rows per GEMM tile (parallel over tile pairs with OpenMP)
  std::string check() const;
};

struct GramResult {
  /// One Gram (none, l2: the raw X X^T) or one per fold (standardise), n x n, symmetric.
  std::vector<Eigen::MatrixXd> grams;
  /// Per requested row: 1 when the store held NaN/Inf in it (those values were read as 0; the
  /// caller must drop the row and say so).
  std::vector<uint8_t> non_finite;
  /// Per requested row: 1 when its values are finite but too large for the Gram (|x|^2 or a
  /// product with another row overflows, e.g. a stored 3e38): its row and column of every Gram
  /// are set to 0; the caller must drop the row and say so.
  std::vector<uint8_t> overflow;
  /// Per requested row: 1 when every value of the row is 0 (a batch that never reached the disk
  /// looks like this; l2 would divide by zero): the caller must drop the row and say so.
  std::vector<uint8_t> all_zero;
  double seconds = 0;
};

/// Gram matrix of `rows` (store row indices) of one layer. For standardise, fold_of[i] in
/// [0, folds) gives the outer fold of rows[i]; otherwise it may be empty.
GramResult compute_gram(const RowSource& store, const std::string& layer,
                        const std::vector<int64_t>& rows, Preprocessing preprocessing,
                        const std::vector<int>& fold_of, int folds, const GramParams& params,
                        const Reporter& reporter = {});

/// One kind of row a fit cannot use, and the rows of that kind.
struct UnusableRows {
  std::string what;       ///< " with NaN/Inf features", " with features too large ...", ...
  std::vector<int> rows;  ///< indices into the requested rows, ascending
};

/// The one row filter of evaluate and train: the rows of `g` no fit may use — NaN/Inf values,
/// values too large for the Gram (overflow), all-zero rows — per kind (kinds without a row are
/// left out), each flagged row also set to 1 in `bad` (resized to the rows when smaller).
std::vector<UnusableRows> unusable_rows(const GramResult& g, std::vector<uint8_t>& bad);

/// In place: K_ij / sqrt(K_ii K_jj); rows with K_ii == 0 stay zero.
void l2_normalise_gram(Eigen::MatrixXd& gram);

}  // namespace ishannot
