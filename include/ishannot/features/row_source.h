#pragma once
// What the learning code reads features through: rows of named layers, one column slab at a
// time. The HDF5 feature store implements it (features/feature_store.h); so can an in-memory
// matrix or another format, without learn/ knowing HDF5 (compute_gram, learn/gram.h).
#include <cstdint>
#include <string>
#include <vector>

namespace ishannot {

class RowSource {
 public:
  virtual ~RowSource() = default;
  /// Values per row of `layer`; Error (naming the source) for a layer it does not hold.
  virtual int64_t dim(const std::string& layer) const = 0;
  /// Columns [col_begin, col_begin + col_count) of the listed rows (any order) of `layer` into
  /// out (rows.size() x col_count floats, row-major); Error naming the source on a bad range or
  /// a failed read.
  virtual void read_block(const std::string& layer, const std::vector<int64_t>& rows,
                          int64_t col_begin, int64_t col_count, float* out) const = 0;
};

}  // namespace ishannot
