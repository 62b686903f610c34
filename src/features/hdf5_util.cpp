#include "detail/hdf5_util.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "ishannot/common/error.h"
#include "ishannot/common/format.h"

namespace ishannot::detail {

Hid& Hid::operator=(Hid&& other) noexcept {
  if (this != &other) {
    reset();
    id_ = other.id_;
    other.id_ = -1;
  }
  return *this;
}

void Hid::reset() {
  if (id_ < 0) return;
  switch (H5Iget_type(id_)) {
    case H5I_FILE:
      H5Fclose(id_);
      break;
    case H5I_GROUP:
      H5Gclose(id_);
      break;
    case H5I_DATASET:
      H5Dclose(id_);
      break;
    case H5I_DATASPACE:
      H5Sclose(id_);
      break;
    case H5I_DATATYPE:
      H5Tclose(id_);
      break;
    case H5I_ATTR:
      H5Aclose(id_);
      break;
    case H5I_GENPROP_LST:
      H5Pclose(id_);
      break;
    default:
      break;
  }
  id_ = -1;
}

void silence_hdf5() {
  static std::once_flag once;
  std::call_once(once, [] { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); });
}

hid_t check_id(hid_t id, const std::string& path, const std::string& what) {
  if (id < 0) throw file_error(path, what);
  return id;
}

void check_status(herr_t status, const std::string& path, const std::string& what) {
  if (status < 0) throw file_error(path, what);
}

namespace {

// The first "errno = N" HDF5's file drivers put on the error stack (sec2: "file write failed:
// ..., errno = 28, error message = 'No space left on device', ...").
herr_t find_errno(unsigned, const H5E_error2_t* error, void* data) {
  if (error->desc == nullptr) return 0;
  const char* at = std::strstr(error->desc, "errno = ");
  if (at != nullptr && *static_cast<int*>(data) == 0)
    *static_cast<int*>(data) = std::atoi(at + std::strlen("errno = "));
  return 0;
}

std::string reason_of_errno(int error) {
  switch (error) {
    case ENOSPC:
      return "disk full (no space left on the device)";
    case EFBIG:
      return "file-size limit (ulimit -f) reached";
    case EDQUOT:
      return "disk full (quota exceeded)";
    default:
      return std::strerror(error);
  }
}

}  // namespace

std::string write_failure_reason(const std::string& path) {
  int error = 0;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, find_errno, &error);
  if (error != 0) return reason_of_errno(error);
  // Nothing recorded: look at the file system and the limit ourselves.
  std::string folder = std::filesystem::path(path).parent_path().string();
  if (folder.empty()) folder = ".";
  struct statvfs fs {};
  if (statvfs(folder.c_str(), &fs) == 0 &&
      static_cast<double>(fs.f_bavail) * static_cast<double>(fs.f_frsize) < 1024.0 * 1024.0)
    return reason_of_errno(ENOSPC);
  rlimit limit{};
  struct stat st {};
  if (getrlimit(RLIMIT_FSIZE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY &&
      stat(path.c_str(), &st) == 0 &&
      static_cast<double>(st.st_size) + 1024.0 * 1024.0 > static_cast<double>(limit.rlim_cur))
    return reason_of_errno(EFBIG);
  return "";
}

void check_write(herr_t status, const std::string& path, const std::string& what) {
  if (status >= 0) return;
  const std::string reason = write_failure_reason(path);
  throw file_error(path, what + (reason.empty() ? "" : ": " + reason));
}

Hid file_access(bool own_lock) {
  Hid fapl(H5Pcreate(H5P_FILE_ACCESS));
  if (!fapl.valid() || H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_LATEST) < 0)
    throw Error("HDF5: cannot set the file format version");
  if (own_lock && H5Pset_file_locking(fapl.get(), false, true) < 0)
    throw Error("HDF5: cannot turn off its file locking");
  return fapl;
}

Hid make_half_type() {
  Hid t(H5Tcopy(H5T_IEEE_F32LE));
  if (!t.valid() || H5Tset_fields(t.get(), 15, 10, 5, 0, 10) < 0 || H5Tset_size(t.get(), 2) < 0 ||
      H5Tset_ebias(t.get(), 15) < 0)
    throw Error("HDF5: cannot build the float16 type");
  return t;
}

Hid make_string_type() {
  Hid t(H5Tcopy(H5T_C_S1));
  if (!t.valid() || H5Tset_size(t.get(), H5T_VARIABLE) < 0 ||
      H5Tset_cset(t.get(), H5T_CSET_UTF8) < 0)
    throw Error("HDF5: cannot build the string type");
  return t;
}

void write_string_attribute(hid_t object, const std::string& name, const std::string& value,
                            const std::string& path) {
  if (H5Aexists(object, name.c_str()) > 0) H5Adelete(object, name.c_str());
  Hid type = make_string_type();
  Hid space(H5Screate(H5S_SCALAR));
  Hid attr(
      check_id(H5Acreate2(object, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
               path, "cannot create attribute " + name));
  const char* data = value.c_str();
  check_status(H5Awrite(attr.get(), type.get(), &data), path, "cannot write attribute " + name);
}

void write_int_attribute(hid_t object, const std::string& name, int64_t value,
                         const std::string& path) {
  if (H5Aexists(object, name.c_str()) > 0) {
    // Rewritten in place when it is already a 64-bit integer (the writer's complete_rows, once
    // per batch): no object-header churn.
    Hid attr(H5Aopen(object, name.c_str(), H5P_DEFAULT));
    Hid type(attr.valid() ? H5Aget_type(attr.get()) : -1);
    if (type.valid() && H5Tget_class(type.get()) == H5T_INTEGER && H5Tget_size(type.get()) == 8) {
      check_write(H5Awrite(attr.get(), H5T_NATIVE_INT64, &value), path,
                  "cannot write attribute " + name);
      return;
    }
    H5Adelete(object, name.c_str());
  }
  Hid space(H5Screate(H5S_SCALAR));
  Hid attr(check_id(
      H5Acreate2(object, name.c_str(), H5T_STD_I64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT), path,
      "cannot create attribute " + name));
  check_status(H5Awrite(attr.get(), H5T_NATIVE_INT64, &value), path,
               "cannot write attribute " + name);
}

namespace {

// Decodes a string array read from a dataset or an attribute (`source`), variable or fixed length.
// Fixed-length strings are read with the file's own type (its padding: NULLTERM, NULLPAD as
// h5py writes numpy 'S' arrays, or SPACEPAD), then cut at the first NUL.
std::vector<std::string> decode_strings(hid_t source, bool attribute, const std::string& label,
                                        const std::string& path) {
  Hid type(attribute ? H5Aget_type(source) : H5Dget_type(source));
  Hid space(attribute ? H5Aget_space(source) : H5Dget_space(source));
  if (!type.valid() || !space.valid()) throw file_error(path, "cannot read " + label);
  if (H5Tget_class(type.get()) != H5T_STRING)
    throw file_error(path, label + " is not a string " + (attribute ? "attribute" : "dataset"));
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  std::vector<std::string> out(static_cast<size_t>(std::max<hssize_t>(n, 0)));
  if (out.empty()) return out;
  auto read = [&](hid_t mem, void* buffer) {
    const herr_t status = attribute ? H5Aread(source, mem, buffer)
                                    : H5Dread(source, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer);
    check_status(status, path, "cannot read " + label);
  };
  if (H5Tis_variable_str(type.get()) > 0) {
    Hid mem = make_string_type();
    std::vector<char*> data(out.size(), nullptr);
    read(mem.get(), data.data());
    for (size_t i = 0; i < out.size(); ++i) out[i] = data[i] ? data[i] : "";
    H5Dvlen_reclaim(mem.get(), space.get(), H5P_DEFAULT, data.data());
    return out;
  }
  const size_t size = H5Tget_size(type.get());
  Hid mem(H5Tcopy(type.get()));
  std::vector<char> buffer(size * out.size());
  read(mem.get(), buffer.data());
  const bool space_padded = H5Tget_strpad(type.get()) == H5T_STR_SPACEPAD;
  for (size_t i = 0; i < out.size(); ++i) {
    std::string text(buffer.data() + i * size, size);
    text = text.substr(0, text.find('\0'));
    if (space_padded) text.erase(text.find_last_not_of(' ') + 1);
    out[i] = text;
  }
  return out;
}

}  // namespace

namespace {

std::string read_one_attribute(hid_t attr, const std::string& path, const std::string& name) {
  Hid type(H5Aget_type(attr));
  Hid space(H5Aget_space(attr));
  const hssize_t count = H5Sget_simple_extent_npoints(space.get());
  const H5T_class_t cls = H5Tget_class(type.get());
  if (count != 1) return "";  // arrays are not provenance text; skip
  if (cls == H5T_STRING) {
    const auto values = decode_strings(attr, true, "attribute " + name, path);
    return values.empty() ? "" : values.front();
  }
  if (cls == H5T_INTEGER) {
    int64_t v = 0;
    check_status(H5Aread(attr, H5T_NATIVE_INT64, &v), path, "cannot read attribute " + name);
    return std::to_string(v);
  }
  if (cls == H5T_FLOAT) {
    double v = 0;
    check_status(H5Aread(attr, H5T_NATIVE_DOUBLE, &v), path, "cannot read attribute " + name);
    return format_exact(v);
  }
  return "";
}

struct AttributeVisit {
  std::map<std::string, std::string>* out;
  const std::string* path;
};

herr_t visit_attribute(hid_t object, const char* name, const H5A_info_t*, void* data) {
  auto* visit = static_cast<AttributeVisit*>(data);
  Hid attr(H5Aopen(object, name, H5P_DEFAULT));
  if (!attr.valid()) return -1;
  (*visit->out)[name] = read_one_attribute(attr.get(), *visit->path, name);
  return 0;
}

}  // namespace

std::map<std::string, std::string> read_attributes(hid_t object, const std::string& path) {
  std::map<std::string, std::string> out;
  AttributeVisit visit{&out, &path};
  hsize_t index = 0;
  check_status(H5Aiterate2(object, H5_INDEX_NAME, H5_ITER_INC, &index, visit_attribute, &visit),
               path, "cannot read attributes");
  return out;
}

bool read_int_attribute(hid_t object, const std::string& name, int64_t* value) {
  if (H5Aexists(object, name.c_str()) <= 0) return false;
  Hid attr(H5Aopen(object, name.c_str(), H5P_DEFAULT));
  if (!attr.valid()) return false;
  Hid type(H5Aget_type(attr.get()));
  if (H5Tget_class(type.get()) != H5T_INTEGER) return false;
  return H5Aread(attr.get(), H5T_NATIVE_INT64, value) >= 0;
}

std::vector<std::string> read_strings(hid_t dataset, const std::string& path) {
  return decode_strings(dataset, false, "/ids", path);
}

std::vector<std::string> read_string_attribute(hid_t object, const std::string& name,
                                               const std::string& path) {
  if (H5Aexists(object, name.c_str()) <= 0) return {};
  Hid attr(
      check_id(H5Aopen(object, name.c_str(), H5P_DEFAULT), path, "cannot open attribute " + name));
  return decode_strings(attr.get(), true, "attribute " + name, path);
}

}  // namespace ishannot::detail
