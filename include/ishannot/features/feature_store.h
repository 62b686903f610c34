#pragma once
// FeatureStore: feature matrices on HDF5, one dataset per layer, readable by h5py/h5dump.
// The contract — what a store must hold, what it may hold — is docs/FEATURE_STORE.md.
//
// Layout (format version 1):
//   /ids                    N strings: variable-length UTF-8 (what we write) or fixed-length
//                           (np.array(ids, dtype='S') in h5py), any padding
//   /features/<layer>       N x D_layer, float32 or float16 (IEEE half), row-major
//   /meta/gene, /meta/stage_range   optional, N strings in /ids order (a store usable without
//                           its manifest)
//   root attributes         format_version = 1 (int, the one required attribute) and, from
//                           extract and baseline, one documented set (store_attributes.h):
//                           tool_version, created_by, manifest_path, manifest_sha256, backbone,
//                           weights_path, weights_sha256, input_size, resize_policy,
//                           preprocessing, pooling, layers, seed, complete_rows ...
//   per-layer attributes    layer, dim, shape (the stored grid, C x Gh x Gw, e.g. "1024x4x4"),
//                           source_shape (the map it came from, "1024x14x14"), pooling
// Files are written in the HDF5 >= 1.8 file format (large attributes stored densely).
//
// Writing is crash-safe and one writer at a time: the writer works on PATH.partial, holds an
// exclusive lock on it (FileLock: a second writer is refused naming the holder's pid), and
// commits every batch in three steps, each flushed and fsync'ed before the next: the feature
// rows, then their ids, then the root attribute complete_rows. A reopened partial trusts
// complete_rows only, so rows whose write never reached the disk (a full disk, a kill) are
// redone, never kept as zeros. Before each batch the writer checks that the file system has room
// and RLIMIT_FSIZE allows the growth, so a full disk or a file-size limit is a clean Error
// ("disk full", "file-size limit") that leaves a partial which resumes.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ishannot/features/row_source.h"

namespace ishannot {

constexpr int kFeatureStoreFormatVersion = 1;

enum class FeatureDtype { kFloat32, kFloat16 };

/// Description of one layer's dataset.
struct LayerSpec {
  std::string name;            ///< dataset name under /features (e.g. "res4f", "relu4_2", "sc_max")
  int64_t dim = 0;             ///< D: values per image
  std::string shape;           ///< what the D values are, e.g. "1024x4x4" (C x grid) or "4096"
  std::string source_shape{};  ///< the map they came from, e.g. "1024x14x14" ("" = shape)
  std::string pooling{};       ///< how: "none" (flattened), "avg:4x4", "max:2x5"... ("" = unknown)
  /// The map the values came from: source_shape, or shape when that is unknown.
  const std::string& map_shape() const { return source_shape.empty() ? shape : source_shape; }
};

/// Writes a feature store. Rows must be appended in the same order for every layer:
/// append(ids, {layer -> rows x D float32 buffer}). Not thread-safe.
class FeatureStoreWriter {
 public:
  /// Creates PATH.partial (or, with resume = true and a compatible one present, reopens it: same
  /// layers, dims, dtype and attributes — except created_by, manifest_path, manifest_sha256 and
  /// seed, which are updated — else Error). String attributes are written at creation.
  /// Refused before anything is written (Error naming the path): PATH is a folder or a file that
  /// is not a feature store (a manifest, an image, a weight file are never overwritten);
  /// PATH.partial is a file of another kind; another process holds PATH.partial's lock.
  FeatureStoreWriter(const std::string& path, const std::vector<LayerSpec>& layers,
                     FeatureDtype dtype, const std::map<std::string, std::string>& attributes,
                     bool resume = false);
  ~FeatureStoreWriter();
  FeatureStoreWriter(const FeatureStoreWriter&) = delete;
  FeatureStoreWriter& operator=(const FeatureStoreWriter&) = delete;

  /// Ids already complete in the file (non-empty only when resumed).
  const std::vector<std::string>& existing_ids() const;

  /// Appends rows: ids.size() rows; data[layer] holds ids.size() x dim floats, row-major.
  /// Throws Error on NaN/Inf values (naming the id and layer), and "disk full" / "file-size
  /// limit" when the batch cannot be stored (the rows before it stay, for a resume).
  void append(const std::vector<std::string>& ids, const std::map<std::string, const float*>& data);

  /// Per-image text written at close as /meta/<name> in /ids order (e.g. "gene",
  /// "stage_range"); ids absent from `by_id` get "".
  void set_metadata(const std::string& name, const std::map<std::string, std::string>& by_id);

  /// Sets (or replaces) a root string attribute before close(), e.g. a list of what a run left
  /// out. Not checked on resume (only the attributes given to the constructor are).
  void set_attribute(const std::string& key, const std::string& value);

  /// Flushes, closes and renames PATH.partial to PATH. The destructor does the same unless it
  /// runs during stack unwinding (an exception): then the .partial file stays, for resume.
  void close();

 private:
  void commit(const std::vector<std::string>& ids, const std::map<std::string, const float*>& data);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Refuses (Error naming the path) an output store path that is a folder, sits in a missing
/// folder, or holds a file that is not a feature store: the writer's own first check, exposed so
/// that a command can run it before any expensive work.
void check_store_output(const std::string& path);

/// True when `path` is an HDF5 file with a format_version attribute (a feature store, finished
/// or partial); false for anything else (no error).
bool is_feature_store(const std::string& path);

/// Reads a feature store. Layers can be read whole or by row blocks (for block-wise Gram
/// matrices on stores that do not fit in RAM); float16 is converted to float32 on read.
class FeatureStoreReader : public RowSource {
 public:
  /// Opens `path`; Error if missing, not HDF5, of another format version, or when /ids lists an
  /// id twice (naming both rows: an id must name one image).
  explicit FeatureStoreReader(const std::string& path);
  ~FeatureStoreReader() override;
  FeatureStoreReader(const FeatureStoreReader&) = delete;
  FeatureStoreReader& operator=(const FeatureStoreReader&) = delete;

  const std::string& path() const;
  const std::vector<std::string>& ids() const;
  std::vector<LayerSpec> layers() const;
  FeatureDtype dtype(const std::string& layer) const;
  std::map<std::string, std::string> attributes() const;
  /// The per-image metadata `name` (/meta/NAME: "gene", "stage_range"), one value per id in
  /// ids() order ("" where the writer had none); empty when the store has none (Error naming the
  /// file when it does not hold one value per id).
  std::vector<std::string> metadata(const std::string& name) const;
  int64_t rows() const { return static_cast<int64_t>(ids().size()); }

  /// Reads rows [row_begin, row_begin + count) of `layer` into out (count x D, row-major).
  void read_rows(const std::string& layer, int64_t row_begin, int64_t count, float* out) const;
  /// Reads the listed rows (any order) of `layer` into out (rows.size() x D, row-major).
  void read_rows(const std::string& layer, const std::vector<int64_t>& rows, float* out) const;
  /// Reads columns [col_begin, col_begin + col_count) of the listed rows (any order) of `layer`
  /// into out (rows.size() x col_count, row-major): the unit of block-wise Gram matrices, which
  /// stream over column slabs so that the file is read once.
  void read_block(const std::string& layer, const std::vector<int64_t>& rows, int64_t col_begin,
                  int64_t col_count, float* out) const override;
  /// Dimension D of one layer (Error when the layer does not exist, naming the file).
  int64_t dim(const std::string& layer) const override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ishannot
