// FeatureStoreWriter: creates (or resumes) PATH.partial, appends row batches, renames on close.
#include <algorithm>
#include <cmath>
#include <exception>
#include <filesystem>
#include <limits>
#include <set>

#include "detail/half.h"
#include "detail/hdf5_util.h"
#include "ishannot/common/error.h"
#include "ishannot/features/feature_store.h"

namespace ishannot {

using detail::check_id;
using detail::check_status;
using detail::Hid;

struct FeatureStoreWriter::Impl {
  std::string path, tmp;
  std::vector<LayerSpec> layers;
  FeatureDtype dtype = FeatureDtype::kFloat32;
  Hid file, ids_dataset;
  std::map<std::string, Hid> layer_datasets;
  std::vector<std::string> existing;
  std::set<std::string> seen;
  int64_t rows = 0;
  int uncaught_at_construction = 0;
  bool closed = false;

  void create(const std::map<std::string, std::string>& attributes);
  void reopen(const std::map<std::string, std::string>& attributes);
};

namespace {

// Rows per chunk: about 256 KiB per chunk, whole rows (row blocks and column slabs both read
// efficiently; a chunk fits HDF5's default 1 MiB cache while a batch is appended).
hsize_t chunk_rows(int64_t dim, size_t element) {
  const double per_row = static_cast<double>(dim) * static_cast<double>(element);
  return static_cast<hsize_t>(std::clamp(262144.0 / per_row, 1.0, 4096.0));
}

void extend_and_write(hid_t dataset, hsize_t rank, const hsize_t* new_dims, const hsize_t* start,
                      const hsize_t* count, hid_t mem_type, const void* data,
                      const std::string& path, const std::string& what) {
  check_status(H5Dset_extent(dataset, new_dims), path, "cannot extend " + what);
  Hid file_space(H5Dget_space(dataset));
  check_status(
      H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr), path,
      "cannot select rows of " + what);
  Hid mem_space(H5Screate_simple(static_cast<int>(rank), count, nullptr));
  check_status(H5Dwrite(dataset, mem_type, mem_space.get(), file_space.get(), H5P_DEFAULT, data),
               path, "cannot write " + what + " (disk full?)");
}

}  // namespace

void FeatureStoreWriter::Impl::create(const std::map<std::string, std::string>& attributes) {
  // File format >= 1.8: attributes over 64 KB (a fine-tuned net's gene list) go to dense
  // storage instead of failing; h5py and every HDF5 since 1.8 (2008) read it.
  Hid fapl(H5Pcreate(H5P_FILE_ACCESS));
  check_status(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_LATEST), tmp,
               "cannot set the HDF5 format version");
  file = Hid(check_id(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()), tmp,
                      "cannot create the feature store"));
  detail::write_int_attribute(file.get(), "format_version", kFeatureStoreFormatVersion, tmp);
  for (const auto& [key, value] : attributes) {
    if (key == "format_version") continue;
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
    const hsize_t chunk[2] = {chunk_rows(layer.dim, element), static_cast<hsize_t>(layer.dim)};
    Hid space(H5Screate_simple(2, dims, max_dims));
    Hid plist(H5Pcreate(H5P_DATASET_CREATE));
    H5Pset_chunk(plist.get(), 2, chunk);
    const hid_t type = dtype == FeatureDtype::kFloat16 ? half.get() : H5T_IEEE_F32LE;
    Hid dataset(check_id(H5Dcreate2(group.get(), layer.name.c_str(), type, space.get(), H5P_DEFAULT,
                                    plist.get(), H5P_DEFAULT),
                         tmp, "cannot create /features/" + layer.name));
    detail::write_string_attribute(dataset.get(), "layer", layer.name, tmp);
    detail::write_string_attribute(dataset.get(), "shape", layer.shape, tmp);
    detail::write_int_attribute(dataset.get(), "dim", layer.dim, tmp);
    layer_datasets[layer.name] = std::move(dataset);
  }
}

void FeatureStoreWriter::Impl::reopen(const std::map<std::string, std::string>& attributes) {
  file = Hid(check_id(H5Fopen(tmp.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), tmp,
                      "cannot reopen the partial feature store (delete it to start over)"));
  const auto stored = detail::read_attributes(file.get(), tmp);
  auto incompatible = [&](const std::string& why) {
    return file_error(tmp, "cannot resume: " + why + " (delete the file to start over)");
  };
  if (stored.count("format_version") == 0 ||
      stored.at("format_version") != std::to_string(kFeatureStoreFormatVersion))
    throw incompatible("format_version differs");
  for (const auto& [key, value] : attributes) {
    auto it = stored.find(key);
    if (it == stored.end() || it->second != value)
      throw incompatible("attribute " + key + " differs ('" +
                         (it == stored.end() ? std::string("missing") : it->second) + "' vs '" +
                         value + "')");
  }
  ids_dataset = Hid(check_id(H5Dopen2(file.get(), "/ids", H5P_DEFAULT), tmp, "no /ids"));
  existing = detail::read_strings(ids_dataset.get(), tmp);
  rows = static_cast<int64_t>(existing.size());
  seen.insert(existing.begin(), existing.end());
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
      throw incompatible("layer " + layer.name + " has fewer rows than /ids");
    // Rows written after the last complete /ids update belong to an interrupted batch.
    dims[0] = static_cast<hsize_t>(rows);
    check_status(H5Dset_extent(dataset.get(), dims), tmp, "cannot truncate " + name);
    layer_datasets[layer.name] = std::move(dataset);
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
  if (resume && std::filesystem::exists(impl_->tmp))
    impl_->reopen(attributes);
  else
    impl_->create(attributes);
}

FeatureStoreWriter::~FeatureStoreWriter() {
  if (!impl_ || impl_->closed) return;
  if (std::uncaught_exceptions() > impl_->uncaught_at_construction) {
    // Unwinding: keep PATH.partial for resume, do not publish an incomplete file.
    impl_->layer_datasets.clear();
    impl_->ids_dataset.reset();
    impl_->file.reset();
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
  const hsize_t start[2] = {static_cast<hsize_t>(impl_->rows), 0};
  const hsize_t new_rows = static_cast<hsize_t>(impl_->rows) + n;
  Hid half = detail::make_half_type();
  std::vector<uint16_t> converted;
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
  // /ids last: its length is the number of complete rows (what resume trusts).
  std::vector<const char*> pointers(n);
  for (size_t i = 0; i < n; ++i) pointers[i] = ids[i].c_str();
  Hid string_type = detail::make_string_type();
  const hsize_t ids_dims[1] = {new_rows}, ids_start[1] = {start[0]}, ids_count[1] = {n};
  extend_and_write(impl_->ids_dataset.get(), 1, ids_dims, ids_start, ids_count, string_type.get(),
                   pointers.data(), impl_->tmp, "/ids");
  check_status(H5Fflush(impl_->file.get(), H5F_SCOPE_LOCAL), impl_->tmp, "cannot flush");
  impl_->rows = static_cast<int64_t>(new_rows);
  impl_->seen.insert(ids.begin(), ids.end());
}

void FeatureStoreWriter::set_attribute(const std::string& key, const std::string& value) {
  if (impl_->closed) throw file_error(impl_->path, "attribute " + key + " set after close");
  if (key == "format_version") throw file_error(impl_->tmp, "format_version is the writer's");
  detail::write_string_attribute(impl_->file.get(), key, value, impl_->tmp);
}

void FeatureStoreWriter::close() {
  if (impl_->closed) return;
  impl_->closed = true;
  impl_->layer_datasets.clear();
  impl_->ids_dataset.reset();
  if (impl_->file.valid()) {
    const herr_t status = H5Fclose(impl_->file.get());
    impl_->file = Hid();
    check_status(status, impl_->tmp, "cannot close the feature store");
  }
  std::error_code ec;
  std::filesystem::rename(impl_->tmp, impl_->path, ec);
  if (ec)
    throw file_error(impl_->path, "cannot rename " + impl_->tmp + " into place: " + ec.message());
}

}  // namespace ishannot
