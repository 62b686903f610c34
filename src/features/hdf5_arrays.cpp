// Small whole HDF5 datasets (hdf5_util.h): strings, doubles, int64s.
#include <numeric>

#include "detail/hdf5_util.h"
#include "ishannot/common/error.h"

namespace ishannot::detail {

namespace {

Hid create_dataset(hid_t parent, const std::string& name, hid_t type,
                   const std::vector<hsize_t>& dims, const std::string& path) {
  if (H5Lexists(parent, name.c_str(), H5P_DEFAULT) > 0)
    H5Ldelete(parent, name.c_str(), H5P_DEFAULT);
  Hid space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
  return Hid(check_id(
      H5Dcreate2(parent, name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
      path, "cannot create dataset " + name));
}

Hid open_dataset(hid_t parent, const std::string& name, const std::string& path) {
  if (H5Lexists(parent, name.c_str(), H5P_DEFAULT) <= 0)
    throw file_error(path, "dataset " + name + " is missing");
  return Hid(
      check_id(H5Dopen2(parent, name.c_str(), H5P_DEFAULT), path, "cannot open dataset " + name));
}

template <class T>
std::vector<T> read_numbers(hid_t parent, const std::string& name, size_t expected, hid_t mem_type,
                            const std::string& path) {
  Hid dataset = open_dataset(parent, name, path);
  Hid space(H5Dget_space(dataset.get()));
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  if (n < 0 || static_cast<size_t>(n) != expected)
    throw file_error(path, "dataset " + name + " holds " + std::to_string(n) +
                               " values, expected " + std::to_string(expected));
  std::vector<T> values(expected);
  if (expected > 0)
    check_status(H5Dread(dataset.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
                 path, "cannot read dataset " + name);
  return values;
}

}  // namespace

void write_strings(hid_t parent, const std::string& name, const std::vector<std::string>& values,
                   const std::string& path) {
  Hid type = make_string_type();
  Hid dataset = create_dataset(parent, name, type.get(), {values.size()}, path);
  std::vector<const char*> pointers;
  for (const auto& v : values) pointers.push_back(v.c_str());
  if (!values.empty())
    check_status(
        H5Dwrite(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data()), path,
        "cannot write dataset " + name);
}

void write_doubles(hid_t parent, const std::string& name, const std::vector<double>& values,
                   const std::vector<hsize_t>& dims, const std::string& path) {
  const hsize_t n = std::accumulate(dims.begin(), dims.end(), hsize_t{1}, std::multiplies<>());
  if (n != values.size()) throw Error(path + ": " + name + ": shape and values disagree");
  Hid dataset = create_dataset(parent, name, H5T_IEEE_F64LE, dims, path);
  if (!values.empty())
    check_status(
        H5Dwrite(dataset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
        path, "cannot write dataset " + name);
}

void write_int64s(hid_t parent, const std::string& name, const std::vector<int64_t>& values,
                  const std::string& path) {
  Hid dataset = create_dataset(parent, name, H5T_STD_I64LE, {values.size()}, path);
  if (!values.empty())
    check_status(
        H5Dwrite(dataset.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
        path, "cannot write dataset " + name);
}

std::vector<std::string> read_string_dataset(hid_t parent, const std::string& name,
                                             const std::string& path) {
  Hid dataset = open_dataset(parent, name, path);
  return read_strings(dataset.get(), path);
}

std::vector<double> read_doubles(hid_t parent, const std::string& name, size_t expected,
                                 const std::string& path) {
  return read_numbers<double>(parent, name, expected, H5T_NATIVE_DOUBLE, path);
}

std::vector<int64_t> read_int64s(hid_t parent, const std::string& name, size_t expected,
                                 const std::string& path) {
  return read_numbers<int64_t>(parent, name, expected, H5T_NATIVE_INT64, path);
}

}  // namespace ishannot::detail
