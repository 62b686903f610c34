// FeatureStoreReader: opens a store, checks its format version, reads row blocks and column
// slabs; float16 is converted to float32 by table lookup.
#include <algorithm>
#include <mutex>
#include <numeric>
#include <unordered_map>

#include "detail/half.h"
#include "detail/hdf5_util.h"
#include "ishannot/common/error.h"
#include "ishannot/features/feature_store.h"

namespace ishannot {

using detail::check_id;
using detail::check_status;
using detail::Hid;

struct FeatureStoreReader::Impl {
  std::string path;
  Hid file;
  std::vector<std::string> ids;
  std::vector<LayerSpec> layers;
  std::map<std::string, Hid> datasets;
  std::map<std::string, FeatureDtype> dtypes;
  std::map<std::string, std::string> attributes;
  // read_block's float16 staging, kept between calls: a Gram reads a 7,580 x 8,192 slab 49 times,
  // and a fresh 124 MB buffer each time cost a zero fill and 30,000 page faults (perf: ~20 % of
  // the paper-size Gram). Guarded: const reads may come from several threads.
  mutable std::mutex scratch_mutex;
  mutable std::vector<uint16_t> scratch;

  const LayerSpec& layer(const std::string& name) const {
    for (const auto& l : layers)
      if (l.name == name) return l;
    std::string known;
    for (const auto& l : layers) known += (known.empty() ? "" : ", ") + l.name;
    throw file_error(path, "no layer '" + name + "' (layers: " + known + ")");
  }

  // Reads a hyperslab (rows [r0, r0 + nr) x cols [c0, c0 + nc)) into out (nr x nc floats).
  void read_slab(const std::string& name, hsize_t r0, hsize_t nr, hsize_t c0, hsize_t nc,
                 float* out, std::vector<uint16_t>& scratch) const {
    const hid_t dataset = datasets.at(name).get();
    Hid file_space(H5Dget_space(dataset));
    const hsize_t start[2] = {r0, c0}, count[2] = {nr, nc};
    check_status(
        H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr), path,
        "cannot select rows of /features/" + name);
    Hid mem_space(H5Screate_simple(2, count, nullptr));
    if (dtypes.at(name) == FeatureDtype::kFloat16) {
      scratch.resize(nr * nc);
      Hid half = detail::make_half_type();
      check_status(H5Dread(dataset, half.get(), mem_space.get(), file_space.get(), H5P_DEFAULT,
                           scratch.data()),
                   path, "cannot read /features/" + name);
      detail::halves_to_floats(scratch.data(), scratch.size(), out);
    } else {
      check_status(
          H5Dread(dataset, H5T_NATIVE_FLOAT, mem_space.get(), file_space.get(), H5P_DEFAULT, out),
          path, "cannot read /features/" + name);
    }
  }
};

namespace {

herr_t collect_name(hid_t, const char* name, const H5L_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->push_back(name);
  return 0;
}

}  // namespace

bool is_feature_store(const std::string& path) {
  detail::silence_hdf5();
  if (H5Fis_hdf5(path.c_str()) <= 0) return false;
  Hid fapl = detail::file_access(true);  // no HDF5 lock: a writer may hold ours on a partial
  Hid file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get()));
  return file.valid() && H5Aexists(file.get(), "format_version") > 0;
}

FeatureStoreReader::FeatureStoreReader(const std::string& path) : impl_(std::make_unique<Impl>()) {
  detail::silence_hdf5();
  auto& s = *impl_;
  s.path = path;
  const htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
  if (is_hdf5 < 0) throw file_error(path, "no such file or not readable");
  if (is_hdf5 == 0) throw file_error(path, "not an HDF5 file (expected an ishannot feature store)");
  s.file = Hid(check_id(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), path,
                        "cannot open the HDF5 file"));
  s.attributes = detail::read_attributes(s.file.get(), path);
  auto version = s.attributes.find("format_version");
  if (version == s.attributes.end())
    throw file_error(path,
                     "no format_version attribute: not an ishannot feature store (a store "
                     "written by another tool needs the root attribute format_version = 1, "
                     "/ids and /features/<layer>: docs/FEATURE_STORE.md)");
  if (version->second != std::to_string(kFeatureStoreFormatVersion))
    throw file_error(path, "feature store format_version " + version->second +
                               " is not supported (this build reads version " +
                               std::to_string(kFeatureStoreFormatVersion) + ")");
  if (H5Lexists(s.file.get(), "/ids", H5P_DEFAULT) <= 0) throw file_error(path, "no /ids dataset");
  {
    Hid ids(check_id(H5Dopen2(s.file.get(), "/ids", H5P_DEFAULT), path, "cannot open /ids"));
    s.ids = detail::read_strings(ids.get(), path);
    // An id names one image: a store that lists one twice is ambiguous (which row is it?).
    std::unordered_map<std::string, size_t> first_row;
    for (size_t r = 0; r < s.ids.size(); ++r)
      if (const auto [at, fresh] = first_row.emplace(s.ids[r], r); !fresh)
        throw file_error(path, "/ids lists '" + s.ids[r] + "' twice (rows " +
                                   std::to_string(at->second) + " and " + std::to_string(r) +
                                   "): an id must name one image");
  }
  if (H5Lexists(s.file.get(), "/features", H5P_DEFAULT) <= 0)
    throw file_error(path, "no /features group");
  Hid group(
      check_id(H5Gopen2(s.file.get(), "/features", H5P_DEFAULT), path, "cannot open /features"));
  std::vector<std::string> names;
  hsize_t index = 0;
  check_status(H5Literate(group.get(), H5_INDEX_NAME, H5_ITER_INC, &index, collect_name, &names),
               path, "cannot list /features");
  for (const auto& name : names) {
    // No chunk cache: unfiltered chunks are then read directly, only the selected columns
    // (column slabs of a row-chunked dataset would otherwise read whole chunks repeatedly).
    Hid access(H5Pcreate(H5P_DATASET_ACCESS));
    H5Pset_chunk_cache(access.get(), 0, 0, 1.0);
    Hid dataset(check_id(H5Dopen2(group.get(), name.c_str(), access.get()), path,
                         "cannot open /features/" + name));
    Hid type(H5Dget_type(dataset.get()));
    if (H5Tget_class(type.get()) != H5T_FLOAT)
      throw file_error(path, "/features/" + name + " is not a float dataset");
    const size_t size = H5Tget_size(type.get());
    if (size != 2 && size != 4)
      throw file_error(path, "/features/" + name + " has " + std::to_string(size * 8) +
                                 "-bit floats (expected float16 or float32)");
    Hid space(H5Dget_space(dataset.get()));
    if (H5Sget_simple_extent_ndims(space.get()) != 2)
      throw file_error(path, "/features/" + name + " is not a 2-D dataset");
    hsize_t dims[2] = {0, 0};
    H5Sget_simple_extent_dims(space.get(), dims, nullptr);
    if (dims[0] != s.ids.size())
      throw file_error(path, "/features/" + name + " has " + std::to_string(dims[0]) +
                                 " rows but /ids has " + std::to_string(s.ids.size()) +
                                 " (incomplete file?)");
    const auto layer_attributes = detail::read_attributes(dataset.get(), path);
    LayerSpec spec;
    spec.name = name;
    spec.dim = static_cast<int64_t>(dims[1]);
    if (auto it = layer_attributes.find("shape"); it != layer_attributes.end())
      spec.shape = it->second;
    if (auto it = layer_attributes.find("source_shape"); it != layer_attributes.end())
      spec.source_shape = it->second;
    if (auto it = layer_attributes.find("pooling"); it != layer_attributes.end())
      spec.pooling = it->second;
    s.layers.push_back(spec);
    s.dtypes[name] = size == 2 ? FeatureDtype::kFloat16 : FeatureDtype::kFloat32;
    s.datasets[name] = std::move(dataset);
  }
}

FeatureStoreReader::~FeatureStoreReader() = default;

const std::string& FeatureStoreReader::path() const {
  return impl_->path;
}
const std::vector<std::string>& FeatureStoreReader::ids() const {
  return impl_->ids;
}
std::vector<LayerSpec> FeatureStoreReader::layers() const {
  return impl_->layers;
}
FeatureDtype FeatureStoreReader::dtype(const std::string& layer) const {
  impl_->layer(layer);
  return impl_->dtypes.at(layer);
}
std::map<std::string, std::string> FeatureStoreReader::attributes() const {
  return impl_->attributes;
}
std::vector<std::string> FeatureStoreReader::metadata(const std::string& name) const {
  const hid_t file = impl_->file.get();
  if (H5Lexists(file, "/meta", H5P_DEFAULT) <= 0) return {};
  Hid group(H5Gopen2(file, "/meta", H5P_DEFAULT));
  if (!group.valid() || H5Lexists(group.get(), name.c_str(), H5P_DEFAULT) <= 0) return {};
  std::vector<std::string> values = detail::read_string_dataset(group.get(), name, impl_->path);
  if (values.size() != impl_->ids.size())
    throw file_error(impl_->path, "/meta/" + name + " holds " + std::to_string(values.size()) +
                                      " values for " + std::to_string(impl_->ids.size()) +
                                      " ids (a damaged store?)");
  return values;
}
int64_t FeatureStoreReader::dim(const std::string& layer) const {
  return impl_->layer(layer).dim;
}

void FeatureStoreReader::read_rows(const std::string& layer, int64_t row_begin, int64_t count,
                                   float* out) const {
  const auto& spec = impl_->layer(layer);
  if (row_begin < 0 || count < 0 || row_begin + count > rows())
    throw file_error(impl_->path, "rows [" + std::to_string(row_begin) + ", " +
                                      std::to_string(row_begin + count) + ") out of range (" +
                                      std::to_string(rows()) + " rows)");
  if (count == 0) return;
  std::vector<uint16_t> scratch;
  // At most ~64 MiB of half scratch per read.
  const int64_t step = std::max<int64_t>(1, (int64_t{32} << 20) / std::max<int64_t>(1, spec.dim));
  for (int64_t r = 0; r < count; r += step) {
    const int64_t n = std::min(step, count - r);
    impl_->read_slab(layer, static_cast<hsize_t>(row_begin + r), static_cast<hsize_t>(n), 0,
                     static_cast<hsize_t>(spec.dim), out + r * spec.dim, scratch);
  }
}

void FeatureStoreReader::read_rows(const std::string& layer, const std::vector<int64_t>& rows,
                                   float* out) const {
  read_block(layer, rows, 0, dim(layer), out);
}

void FeatureStoreReader::read_block(const std::string& layer, const std::vector<int64_t>& rows,
                                    int64_t col_begin, int64_t col_count, float* out) const {
  const auto& spec = impl_->layer(layer);
  if (col_begin < 0 || col_count < 0 || col_begin + col_count > spec.dim)
    throw file_error(impl_->path, "columns out of range for layer " + layer);
  for (int64_t r : rows)
    if (r < 0 || r >= this->rows())
      throw file_error(impl_->path, "row " + std::to_string(r) + " out of range");
  if (rows.empty() || col_count == 0) return;
  // Read runs of consecutive rows (in sorted order) with one call each, then scatter.
  std::vector<size_t> order(rows.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return rows[a] < rows[b]; });
  std::vector<float> buffer;
  const std::lock_guard<std::mutex> lock(impl_->scratch_mutex);
  const size_t width = static_cast<size_t>(col_count);
  size_t i = 0;
  while (i < order.size()) {
    size_t j = i + 1;
    while (j < order.size() && rows[order[j]] == rows[order[j - 1]] + 1) ++j;
    const size_t run = j - i;
    // Rows that are consecutive in the file and in `out` too (the common case: rows requested
    // in store order) are read straight into `out`; others through a buffer, then scattered.
    bool in_place = true;
    for (size_t k = 1; k < run && in_place; ++k) in_place = order[i + k] == order[i] + k;
    float* target = out + order[i] * width;
    if (!in_place) {
      buffer.resize(run * width);
      target = buffer.data();
    }
    impl_->read_slab(layer, static_cast<hsize_t>(rows[order[i]]), run,
                     static_cast<hsize_t>(col_begin), width, target, impl_->scratch);
    if (!in_place)
      for (size_t k = 0; k < run; ++k)
        std::copy(buffer.begin() + static_cast<std::ptrdiff_t>(k * width),
                  buffer.begin() + static_cast<std::ptrdiff_t>((k + 1) * width),
                  out + order[i + k] * width);
    i = j;
  }
}

}  // namespace ishannot
