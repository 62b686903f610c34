#pragma once
// Internal to the feature-store writer (src/features/feature_store_writer.cpp: creating,
// resuming, appending, closing; store_writer_disk.cpp: what keeps a partial sound on the disk —
// fsync per step, room checked and reserved per batch, HDF5 closed safely after a failed write).
#include <hdf5.h>

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "detail/hdf5_util.h"
#include "ishannot/common/error.h"
#include "ishannot/common/file_lock.h"
#include "ishannot/features/feature_store.h"

namespace ishannot {

namespace detail {
/// Rows per chunk: about 256 KiB per chunk, whole rows (row blocks and column slabs both read
/// efficiently; a chunk fits HDF5's default 1 MiB cache while a batch is appended).
hsize_t chunk_rows(int64_t dim, size_t element);
}  // namespace detail

/// The writer's state: the partial it holds locked, its open HDF5 objects, and what has been
/// committed (rows whose three steps all reached the disk).
struct FeatureStoreWriter::Impl {
  std::string path, tmp;  ///< PATH and PATH.partial
  std::vector<LayerSpec> layers;
  FeatureDtype dtype = FeatureDtype::kFloat32;
  FileLock lock;  ///< on tmp, for the writer's lifetime (declared first: released last)
  detail::Hid file, ids_dataset;
  std::map<std::string, detail::Hid> layer_datasets;
  std::vector<std::string> existing;  ///< ids found complete when resumed
  std::vector<std::string> all_ids;   ///< every committed id, in row order (for /meta)
  std::set<std::string> seen;
  std::map<std::string, std::map<std::string, std::string>> metadata;  ///< name -> id -> text
  int64_t rows = 0;  ///< committed rows (= complete_rows on the disk)
  int uncaught_at_construction = 0;
  bool closed = false;
  bool failed = false;  ///< a write failed: HDF5's view of the file differs from the disk
  bool dirty = false;   ///< reopen has started writing
  std::vector<uint16_t> half_rows;  ///< commit()'s float16 rows, kept: the same pages each batch

  // feature_store_writer.cpp
  void create(const std::map<std::string, std::string>& attributes);
  void reopen(const std::map<std::string, std::string>& attributes);
  void open_layers(const std::function<Error(const std::string&)>& incompatible);
  int64_t dim_of(const std::string& name) const;
  void write_metadata();
  // store_writer_disk.cpp
  void sync(const std::string& step);  ///< flush + fsync, or Error "STEP: disk full ..."
  void check_room(size_t n) const;     ///< room for n more rows, or Error (nothing written)
  void abandon_pending_writes();       ///< after a failed write: HDF5 writes to /dev/null
  void release_reservation() const;    ///< frees the unused blocks check_room reserved
  void close_file();                   ///< closes HDF5 (safely when failed)
};

}  // namespace ishannot
