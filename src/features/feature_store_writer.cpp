// FeatureStoreWriter: creates (or resumes) PATH.partial under an exclusive lock, appends row
// batches in three durable steps (rows, ids, complete_rows), renames on close.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <exception>
#include <filesystem>
#include <functional>
#include <limits>
#include <set>

#include "detail/half.h"
#include "detail/hdf5_util.h"
#include "features/store_writer.h"
#include "ishannot/common/error.h"
#include "ishannot/common/file_lock.h"
#include "ishannot/features/feature_store.h"

namespace ishannot {

using detail::check_id;
using detail::check_status;
using detail::check_write;
using detail::Hid;
namespace fs = std::filesystem;

namespace {

// Root attributes that describe this run rather than the features: a resume updates them
// instead of refusing (the finished store names the command and manifest that completed it).
const std::set<std::string> kUpdatedOnResume = {"created_by", "manifest_path", "manifest_sha256",
                                                "seed"};

void extend_and_write(hid_t dataset, hsize_t rank, const hsize_t* new_dims, const hsize_t* start,
                      const hsize_t* count, hid_t mem_type, const void* data,
                      const std::string& path, const std::string& what) {
  check_write(H5Dset_extent(dataset, new_dims), path, "cannot extend " + what);
  Hid file_space(H5Dget_space(dataset));
  check_status(
      H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr), path,
      "cannot select rows of " + what);
  Hid mem_space(H5Screate_simple(static_cast<int>(rank), count, nullptr));
  check_write(H5Dwrite(dataset, mem_type, mem_space.get(), file_space.get(), H5P_DEFAULT, data),
              path, "cannot write " + what);
}

void write_string_dataset(hid_t parent, const std::string& name,
                          const std::vector<std::string>& values, const std::string& path) {
  Hid type = detail::make_string_type();
  const hsize_t dims[1] = {values.size()};
  Hid space(H5Screate_simple(1, dims, nullptr));
  Hid dataset(check_id(H5Dcreate2(parent, name.c_str(), type.get(), space.get(), H5P_DEFAULT,
                                  H5P_DEFAULT, H5P_DEFAULT),
                       path, "cannot create " + name));
  std::vector<const char*> pointers;
  for (const auto& v : values) pointers.push_back(v.c_str());
  if (!values.empty())
    check_write(H5Dwrite(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data()),
                path, "cannot write " + name);
}

}  // namespace

void check_store_output(const std::string& path) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (ec && ec != std::errc::no_such_file_or_directory)
    throw file_error(path, "cannot be used as output: " + ec.message());
  if (fs::is_directory(status))
    throw file_error(path, "is a folder; --out names the .h5 file to write");
  const fs::path folder = fs::path(path).parent_path();
  if (!folder.empty() && !fs::is_directory(folder, ec))
    throw file_error(path, "its folder " + folder.string() + " does not exist");
  if (fs::exists(status) && !is_feature_store(path))
    throw file_error(path,
                     "exists and is not a feature store: refusing to overwrite it (remove it or "
                     "choose another --out)");
}

void FeatureStoreWriter::Impl::create(const std::map<std::string, std::string>& attributes) {
  Hid fapl = detail::file_access(true);
  file = Hid(check_id(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()), tmp,
                      "cannot create the feature store"));
  detail::write_int_attribute(file.get(), "format_version", kFeatureStoreFormatVersion, tmp);
  detail::write_int_attribute(file.get(), "complete_rows", 0, tmp);
  for (const auto& [key, value] : attributes) {
    if (key == "format_version" || key == "complete_rows") continue;
    detail::write_string_attribute(file.get(), key, value, tmp);
  }
  {
    Hid type = detail::make_string_type();
    const hsize_t dims[1] = {0}, max_dims[1] = {H5S_UNLIMITED}, chunk[1] = {1024};
    Hid space(H5Screate_simple(1, dims, max_dims));
    Hid plist(H5Pcreate(H5P_DATASET_CREATE));
    H5Pset_chunk(plist.get(), 1, chunk);
    ids_dataset = Hid(check_id(H5Dcreate2(file.get(), "/ids", type.get(), space.get(), H5P_DEFAULT,
                                          plist.get(), H5P_DEFAULT),
                               tmp, "cannot create /ids"));
  }
  Hid group(check_id(H5Gcreate2(file.get(), "/features", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                     tmp, "cannot create /features"));
  Hid half = detail::make_half_type();
  const size_t element = dtype == FeatureDtype::kFloat16 ? 2 : 4;
  for (const auto& layer : layers) {
    const hsize_t dims[2] = {0, static_cast<hsize_t>(layer.dim)};
    const hsize_t max_dims[2] = {H5S_UNLIMITED, static_cast<hsize_t>(layer.dim)};
    const hsize_t chunk[2] = {detail::chunk_rows(layer.dim, element),
                              static_cast<hsize_t>(layer.dim)};
    Hid space(H5Screate_simple(2, dims, max_dims));
    Hid plist(H5Pcreate(H5P_DATASET_CREATE));
    H5Pset_chunk(plist.get(), 2, chunk);
    const hid_t type = dtype == FeatureDtype::kFloat16 ? half.get() : H5T_IEEE_F32LE;
    Hid dataset(check_id(H5Dcreate2(group.get(), layer.name.c_str(), type, space.get(), H5P_DEFAULT,
                                    plist.get(), H5P_DEFAULT),
                         tmp, "cannot create /features/" + layer.name));
    detail::write_string_attribute(dataset.get(), "layer", layer.name, tmp);
    detail::write_string_attribute(dataset.get(), "shape", layer.shape, tmp);
    detail::write_string_attribute(dataset.get(), "source_shape",
                                   layer.source_shape.empty() ? layer.shape : layer.source_shape,
                                   tmp);
    if (!layer.pooling.empty())
      detail::write_string_attribute(dataset.get(), "pooling", layer.pooling, tmp);
    detail::write_int_attribute(dataset.get(), "dim", layer.dim, tmp);
    layer_datasets[layer.name] = std::move(dataset);
  }
  sync("cannot create the feature store");
}

void FeatureStoreWriter::Impl::reopen(const std::map<std::string, std::string>& attributes) {
  Hid fapl = detail::file_access(true);
  file = Hid(check_id(H5Fopen(tmp.c_str(), H5F_ACC_RDWR, fapl.get()), tmp,
                      "cannot reopen the partial feature store (--restart to start over)"));
  // Every check before the first write: a partial that cannot be resumed is left as it is.
  const auto stored = detail::read_attributes(file.get(), tmp);
  auto incompatible = [&](const std::string& why) {
    return file_error(tmp, "cannot resume: " + why + " (--restart to start over)");
  };
  if (stored.count("format_version") == 0 ||
      stored.at("format_version") != std::to_string(kFeatureStoreFormatVersion))
    throw incompatible("format_version differs");
  for (const auto& [key, value] : attributes) {
    if (kUpdatedOnResume.count(key)) continue;
    auto it = stored.find(key);
    if (it == stored.end() || it->second != value)
      throw incompatible("attribute " + key + " differs ('" +
                         (it == stored.end() ? std::string("missing") : it->second) + "' vs '" +
                         value + "')");
  }
  ids_dataset = Hid(check_id(H5Dopen2(file.get(), "/ids", H5P_DEFAULT), tmp, "no /ids"));
  existing = detail::read_strings(ids_dataset.get(), tmp);
  // Only rows recorded as complete count: a batch whose write did not reach the disk (a full
  // disk, a kill between the steps of append) is written again, not kept as zeros.
  int64_t complete = static_cast<int64_t>(existing.size());
  if (detail::read_int_attribute(file.get(), "complete_rows", &complete) &&
      (complete < 0 || complete > static_cast<int64_t>(existing.size())))
    throw incompatible("it records " + std::to_string(complete) + " complete rows but holds " +
                       std::to_string(existing.size()) + " ids (damaged)");
  existing.resize(static_cast<size_t>(complete));
  rows = complete;
  open_layers(incompatible);
  // Now the writes: the run's provenance, and everything cut back to the complete rows.
  dirty = true;
  for (const auto& key : kUpdatedOnResume)
    if (auto it = attributes.find(key); it != attributes.end())
      detail::write_string_attribute(file.get(), key, it->second, tmp);
  for (const auto& [name, dataset] : layer_datasets) {
    const hsize_t dims[2] = {static_cast<hsize_t>(rows), static_cast<hsize_t>(dim_of(name))};
    check_write(H5Dset_extent(dataset.get(), dims), tmp, "cannot truncate /features/" + name);
  }
  const hsize_t ids_dims[1] = {static_cast<hsize_t>(rows)};
  check_write(H5Dset_extent(ids_dataset.get(), ids_dims), tmp, "cannot truncate /ids");
  detail::write_int_attribute(file.get(), "complete_rows", rows, tmp);
  sync("cannot reopen the partial feature store");
  seen.insert(existing.begin(), existing.end());
  all_ids = existing;
}

void FeatureStoreWriter::Impl::open_layers(
    const std::function<Error(const std::string&)>& incompatible) {
  for (const auto& layer : layers) {
    const std::string name = "/features/" + layer.name;
    Hid dataset(H5Dopen2(file.get(), name.c_str(), H5P_DEFAULT));
    if (!dataset.valid()) throw incompatible("layer " + layer.name + " is missing");
    Hid type(H5Dget_type(dataset.get()));
    const bool is_half = H5Tget_size(type.get()) == 2;
    if (is_half != (dtype == FeatureDtype::kFloat16)) throw incompatible("dtype differs");
    Hid space(H5Dget_space(dataset.get()));
    hsize_t dims[2] = {0, 0};
    H5Sget_simple_extent_dims(space.get(), dims, nullptr);
    if (static_cast<int64_t>(dims[1]) != layer.dim)
      throw incompatible("layer " + layer.name + " has dim " + std::to_string(dims[1]));
    if (static_cast<int64_t>(dims[0]) < rows)
      throw incompatible("layer " + layer.name + " has fewer rows than complete_rows (damaged)");
    layer_datasets[layer.name] = std::move(dataset);
  }
}

int64_t FeatureStoreWriter::Impl::dim_of(const std::string& name) const {
  for (const auto& layer : layers)
    if (layer.name == name) return layer.dim;
  return 0;
}

void FeatureStoreWriter::Impl::write_metadata() {
  if (metadata.empty()) return;
  Hid group(check_id(H5Gcreate2(file.get(), "/meta", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), tmp,
                     "cannot create /meta"));
  for (const auto& [name, by_id] : metadata) {
    std::vector<std::string> values;
    for (const auto& id : all_ids) {
      auto it = by_id.find(id);
      values.push_back(it == by_id.end() ? "" : it->second);
    }
    write_string_dataset(group.get(), name, values, tmp);
  }
}

FeatureStoreWriter::FeatureStoreWriter(const std::string& path,
                                       const std::vector<LayerSpec>& layers, FeatureDtype dtype,
                                       const std::map<std::string, std::string>& attributes,
                                       bool resume)
    : impl_(std::make_unique<Impl>()) {
  detail::silence_hdf5();
  impl_->path = path;
  impl_->tmp = path + ".partial";
  impl_->layers = layers;
  impl_->dtype = dtype;
  impl_->uncaught_at_construction = std::uncaught_exceptions();
  if (layers.empty()) throw file_error(path, "no layer to write");
  std::set<std::string> names;
  for (const auto& layer : layers) {
    if (layer.name.empty() || layer.name.find('/') != std::string::npos)
      throw file_error(path, "invalid layer name '" + layer.name + "'");
    if (layer.dim <= 0) throw file_error(path, "layer " + layer.name + " has no dimension");
    if (!names.insert(layer.name).second) throw file_error(path, "layer " + layer.name + " twice");
  }
  check_store_output(path);
  std::error_code ec;
  const bool had_partial = fs::exists(impl_->tmp, ec) && fs::file_size(impl_->tmp, ec) > 0;
  impl_->lock = FileLock(impl_->tmp);  // before looking inside: no other writer changes it now
  if (had_partial && !is_feature_store(impl_->tmp))
    throw file_error(impl_->tmp,
                     "exists and is not a partial feature store: refusing to overwrite it (remove "
                     "it yourself)");
  const bool reopening = resume && had_partial;
  try {
    if (reopening)
      impl_->reopen(attributes);
    else
      impl_->create(attributes);
  } catch (...) {
    // A refused resume leaves the partial untouched; a creation that failed (a full disk)
    // leaves nothing: the file holds no row.
    impl_->failed = !reopening || impl_->dirty;
    try {
      impl_->close_file();
    } catch (...) {
    }
    if (!reopening) fs::remove(impl_->tmp, ec);
    throw;
  }
}

FeatureStoreWriter::~FeatureStoreWriter() {
  if (!impl_ || impl_->closed) return;
  if (std::uncaught_exceptions() > impl_->uncaught_at_construction || impl_->failed) {
    // Unwinding: keep PATH.partial for resume, do not publish an incomplete file.
    try {
      impl_->close_file();
    } catch (...) {
    }
    return;
  }
  try {
    close();
  } catch (...) {
  }
}

const std::vector<std::string>& FeatureStoreWriter::existing_ids() const {
  return impl_->existing;
}

void FeatureStoreWriter::set_metadata(const std::string& name,
                                      const std::map<std::string, std::string>& by_id) {
  if (name.empty() || name.find('/') != std::string::npos)
    throw file_error(impl_->path, "invalid metadata name '" + name + "'");
  impl_->metadata[name] = by_id;
}

void FeatureStoreWriter::append(const std::vector<std::string>& ids,
                                const std::map<std::string, const float*>& data) {
  if (impl_->closed) throw file_error(impl_->path, "append after close");
  const size_t n = ids.size();
  if (n == 0) return;
  for (const auto& id : ids)
    if (impl_->seen.count(id)) throw file_error(impl_->tmp, "id " + id + " appended twice");
  for (const auto& layer : impl_->layers) {
    auto it = data.find(layer.name);
    if (it == data.end() || it->second == nullptr)
      throw file_error(impl_->tmp, "append without data for layer " + layer.name);
    const float* rows = it->second;
    const float limit = impl_->dtype == FeatureDtype::kFloat16 ? detail::kHalfMax
                                                               : std::numeric_limits<float>::max();
    for (size_t r = 0; r < n; ++r)
      for (int64_t c = 0; c < layer.dim; ++c) {
        const float v = rows[r * static_cast<size_t>(layer.dim) + static_cast<size_t>(c)];
        if (!std::isfinite(v))
          throw file_error(impl_->tmp, "non-finite feature value (NaN/Inf) for id " + ids[r] +
                                           ", layer " + layer.name + ", column " +
                                           std::to_string(c));
        if (std::fabs(v) > limit)
          throw file_error(impl_->tmp, "feature value " + std::to_string(v) + " for id " + ids[r] +
                                           ", layer " + layer.name +
                                           " exceeds the float16 range (store float32)");
      }
  }
  impl_->check_room(n);
  try {
    commit(ids, data);
  } catch (...) {
    impl_->failed = true;
    throw;
  }
}

void FeatureStoreWriter::commit(const std::vector<std::string>& ids,
                                const std::map<std::string, const float*>& data) {
  const size_t n = ids.size();
  // Step 1: the rows, on the disk.
  const hsize_t start[2] = {static_cast<hsize_t>(impl_->rows), 0};
  const hsize_t new_rows = static_cast<hsize_t>(impl_->rows) + n;
  Hid half = detail::make_half_type();
  std::vector<uint16_t>& converted = impl_->half_rows;
  for (const auto& layer : impl_->layers) {
    const hsize_t dims[2] = {new_rows, static_cast<hsize_t>(layer.dim)};
    const hsize_t count[2] = {n, static_cast<hsize_t>(layer.dim)};
    const float* rows = data.at(layer.name);
    const hid_t dataset = impl_->layer_datasets.at(layer.name).get();
    if (impl_->dtype == FeatureDtype::kFloat16) {
      converted.resize(n * static_cast<size_t>(layer.dim));
      for (size_t i = 0; i < converted.size(); ++i) converted[i] = detail::float_to_half(rows[i]);
      extend_and_write(dataset, 2, dims, start, count, half.get(), converted.data(), impl_->tmp,
                       "/features/" + layer.name);
    } else {
      extend_and_write(dataset, 2, dims, start, count, H5T_NATIVE_FLOAT, rows, impl_->tmp,
                       "/features/" + layer.name);
    }
  }
  impl_->sync("cannot store the rows");
  // Step 2: their ids.
  std::vector<const char*> pointers(n);
  for (size_t i = 0; i < n; ++i) pointers[i] = ids[i].c_str();
  Hid string_type = detail::make_string_type();
  const hsize_t ids_dims[1] = {new_rows}, ids_start[1] = {start[0]}, ids_count[1] = {n};
  extend_and_write(impl_->ids_dataset.get(), 1, ids_dims, ids_start, ids_count, string_type.get(),
                   pointers.data(), impl_->tmp, "/ids");
  impl_->sync("cannot store the ids");
  // Step 3: the count a resume trusts.
  detail::write_int_attribute(impl_->file.get(), "complete_rows", static_cast<int64_t>(new_rows),
                              impl_->tmp);
  impl_->sync("cannot store the row count");
  impl_->rows = static_cast<int64_t>(new_rows);
  impl_->seen.insert(ids.begin(), ids.end());
  impl_->all_ids.insert(impl_->all_ids.end(), ids.begin(), ids.end());
}

void FeatureStoreWriter::set_attribute(const std::string& key, const std::string& value) {
  if (impl_->closed) throw file_error(impl_->path, "attribute " + key + " set after close");
  if (key == "format_version") throw file_error(impl_->tmp, "format_version is the writer's");
  detail::write_string_attribute(impl_->file.get(), key, value, impl_->tmp);
}

void FeatureStoreWriter::close() {
  if (impl_->closed) return;
  impl_->closed = true;
  if (impl_->failed) {
    impl_->close_file();
    throw file_error(impl_->tmp, "not complete: a write failed (rerun to resume)");
  }
  try {
    if (impl_->file.valid()) impl_->write_metadata();
  } catch (...) {
    impl_->failed = true;
    impl_->close_file();
    throw;
  }
  impl_->close_file();
  std::error_code ec;
  fs::rename(impl_->tmp, impl_->path, ec);
  if (ec)
    throw file_error(impl_->path, "cannot rename " + impl_->tmp + " into place: " + ec.message());
  impl_->lock.release();
}

}  // namespace ishannot
