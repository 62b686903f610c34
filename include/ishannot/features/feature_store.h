#pragma once
// FeatureStore: feature matrices on HDF5, one dataset per layer, readable by h5py/h5dump.
//
// Layout (format version 1):
//   /ids                    variable-length UTF-8 strings, N
//   /features/<layer>       N x D_layer, float32 or float16 (IEEE half), chunked (rows), row-major
//   root attributes         format_version (int), tool_version, backbone, weights_sha256,
//                           input_size, resize_policy, pooling, seed, created_by (command line) ...
//                           and, from `extract --model`, finetune_stage_range and finetune_genes
//                           (one gene per line: the genes the fine-tuned net saw)
//   per-layer attributes    shape (C,H,W of the map before flattening, as "512x28x28"), layer name
// Files are written in the HDF5 >= 1.8 file format (large attributes stored densely).
// Rows are appended in batches; a store opened for append reports how many rows are complete, so
// an interrupted extraction resumes (the writer works on PATH.partial and renames at the end).
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ishannot {

constexpr int kFeatureStoreFormatVersion = 1;

enum class FeatureDtype { kFloat32, kFloat16 };

/// Description of one layer's dataset.
struct LayerSpec {
  std::string name;   ///< dataset name under /features (e.g. "res4f", "relu4_2", "sc_max")
  int64_t dim = 0;    ///< D: values per image
  std::string shape;  ///< human-readable map shape before flattening, e.g. "512x28x28"
};

/// Writes a feature store. Rows must be appended in the same order for every layer:
/// append(ids, {layer -> rows x D float32 buffer}). Not thread-safe.
class FeatureStoreWriter {
 public:
  /// Creates `path` (or, with resume = true and a compatible file present, reopens it: same
  /// layers, dims, dtype and attributes, else Error). String attributes are written at creation.
  FeatureStoreWriter(const std::string& path, const std::vector<LayerSpec>& layers,
                     FeatureDtype dtype, const std::map<std::string, std::string>& attributes,
                     bool resume = false);
  ~FeatureStoreWriter();
  FeatureStoreWriter(const FeatureStoreWriter&) = delete;
  FeatureStoreWriter& operator=(const FeatureStoreWriter&) = delete;

  /// Ids already complete in the file (non-empty only when resumed).
  const std::vector<std::string>& existing_ids() const;

  /// Appends rows: ids.size() rows; data[layer] holds ids.size() x dim floats, row-major.
  /// Throws Error on NaN/Inf values (naming the id and layer).
  void append(const std::vector<std::string>& ids, const std::map<std::string, const float*>& data);

  /// Sets (or replaces) a root string attribute before close(), e.g. a list of what a run left
  /// out. Not checked on resume (only the attributes given to the constructor are).
  void set_attribute(const std::string& key, const std::string& value);

  /// Flushes, closes and renames PATH.partial to PATH. The destructor does the same unless it
  /// runs during stack unwinding (an exception): then the .partial file stays, for resume.
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Reads a feature store. Layers can be read whole or by row blocks (for block-wise Gram
/// matrices on stores that do not fit in RAM); float16 is converted to float32 on read.
class FeatureStoreReader {
 public:
  /// Opens `path`; Error if missing, not HDF5, or of another format version.
  explicit FeatureStoreReader(const std::string& path);
  ~FeatureStoreReader();
  FeatureStoreReader(const FeatureStoreReader&) = delete;
  FeatureStoreReader& operator=(const FeatureStoreReader&) = delete;

  const std::string& path() const;
  const std::vector<std::string>& ids() const;
  std::vector<LayerSpec> layers() const;
  FeatureDtype dtype(const std::string& layer) const;
  std::map<std::string, std::string> attributes() const;
  int64_t rows() const { return static_cast<int64_t>(ids().size()); }

  /// Reads rows [row_begin, row_begin + count) of `layer` into out (count x D, row-major).
  void read_rows(const std::string& layer, int64_t row_begin, int64_t count, float* out) const;
  /// Reads the listed rows (any order) of `layer` into out (rows.size() x D, row-major).
  void read_rows(const std::string& layer, const std::vector<int64_t>& rows, float* out) const;
  /// Reads columns [col_begin, col_begin + col_count) of the listed rows (any order) of `layer`
  /// into out (rows.size() x col_count, row-major): the unit of block-wise Gram matrices, which
  /// stream over column slabs so that the file is read once.
  void read_block(const std::string& layer, const std::vector<int64_t>& rows, int64_t col_begin,
                  int64_t col_count, float* out) const;
  /// Dimension D of one layer (Error when the layer does not exist, naming the file).
  int64_t dim(const std::string& layer) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ishannot
