// The feature-store writer's disk discipline (detail/store_writer.h) through the shared HDF5
// one (detail/hdf5_disk.h): each step flushed and fsync'ed, the room for a batch checked
// (RLIMIT_FSIZE) and reserved before HDF5 writes anything, HDF5 closed safely after a write the
// disk refused.
#include <algorithm>
#include <cmath>

#include "detail/hdf5_disk.h"
#include "features/store_writer.h"

namespace ishannot {

using detail::check_write;
using detail::Hid;

namespace detail {
hsize_t chunk_rows(int64_t dim, size_t element) {
  const double per_row = static_cast<double>(dim) * static_cast<double>(element);
  return static_cast<hsize_t>(std::clamp(262144.0 / per_row, 1.0, 4096.0));
}

}  // namespace detail

void FeatureStoreWriter::Impl::sync(const std::string& step) {
  detail::sync_hdf5(file.get(), tmp, step);
}

// Before a batch: room for it on the file system and under RLIMIT_FSIZE, with a margin for
// HDF5's own growth (chunk index, heap). Failing here, before HDF5 writes anything, leaves the
// partial exactly as the last batch left it.
void FeatureStoreWriter::Impl::check_room(size_t n) const {
  const size_t element = dtype == FeatureDtype::kFloat16 ? 2 : 4;
  double growth = 256.0 * 1024;  // metadata margin
  for (const auto& layer : layers) {
    const double chunk = static_cast<double>(detail::chunk_rows(layer.dim, element));
    const double chunks_now = std::ceil(static_cast<double>(rows) / chunk);
    const double chunks_after =
        std::ceil(static_cast<double>(rows + static_cast<int64_t>(n)) / chunk);
    growth += (chunks_after - chunks_now) * chunk * static_cast<double>(layer.dim) *
              static_cast<double>(element);
  }
  growth += static_cast<double>(n) * 64.0;  // ids
  detail::reserve_room(file.get(), tmp, growth, "the next batch",
                       "the " + std::to_string(rows) + " rows written are kept");
}

void FeatureStoreWriter::Impl::abandon_pending_writes() {
  if (file.valid()) detail::abandon_pending_writes(file.get());
}

void FeatureStoreWriter::Impl::release_reservation() const {
  detail::release_reservation(tmp);
}

void FeatureStoreWriter::Impl::close_file() {
  if (failed) abandon_pending_writes();
  layer_datasets.clear();
  ids_dataset.reset();
  if (!file.valid()) return;
  const herr_t status = H5Fclose(file.get());
  file = Hid();
  release_reservation();
  if (!failed) check_write(status, tmp, "cannot close the feature store");
}

}  // namespace ishannot
