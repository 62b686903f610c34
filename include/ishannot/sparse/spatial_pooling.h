#pragma once
// Pooling of sparse codes over a spatial pyramid of the embryo (ISH images are standardised:
// the embryo fills the frame, anterior left, dorsal up, so image cells are embryo regions).
//
// A level of rows x columns splits the image into that grid of cells (the --pool spelling of
// features/pool_grid.h: "4" = 4x4, "2x5" = 2 rows of 5); a descriptor belongs to the cell that
// holds its centre. For each cell and atom k the pooled value is, over the descriptors of the cell
// (low-contrast descriptors count, with a zero code):
//   max:  max |a_k|            average: mean |a_k|            sqrt: sqrt(mean a_k^2)
// (absolute values as in ScSPM, Yang et al. 2009, since lasso/OMP codes can be negative). An
// empty cell pools to 0. Output layout: levels in the given order, cells row-major (top row
// first), atoms fastest: size = atoms * cells (1x1,2x2,4x4: 21 cells, 21,504 values at K = 1024).
#include <string>
#include <vector>

#include "ishannot/sparse/sparse_coding.h"

namespace ishannot {

enum class PoolingKind { kMax, kAverage, kSqrtMeanSquare };

/// Parses "max", "avg"/"average", "sqrt"; throws Error otherwise.
PoolingKind parse_pooling_kind(const std::string& name);
/// "max", "avg", "sqrt": also the suffix of the feature-store layer ("sc_max").
std::string pooling_kind_name(PoolingKind kind);

/// One level of the pyramid: a grid of rows x cols cells.
struct PyramidLevel {
  int rows = 1, cols = 1;
};

struct PyramidParams {
  std::vector<PyramidLevel> levels = {{1, 1}, {2, 2}, {4, 4}};  ///< each side in 1..64
  bool l2_normalise = true;  ///< scale each pooled vector to unit l2 norm (ScSPM); a zero vector
                             ///< (blank image) stays zero
  std::string check() const;
  int cells() const;
  /// The levels as text, "1x1,2x2,4x4" (the store's sc_pyramid attribute).
  std::string text() const;
};

/// Pools codes (one column per descriptor, centres x/y in an image of width x height).
std::vector<float> pool_codes(const SparseCodes& codes, const std::vector<float>& x,
                              const std::vector<float>& y, int width, int height,
                              const PyramidParams& pyramid, PoolingKind kind);

}  // namespace ishannot
