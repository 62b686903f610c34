#pragma once
// Small helpers shared by the tests: the message of an ishannot::Error, cutting a file short,
// and writing a NaN into a stored feature matrix the way another tool could (our writer refuses).
#include <hdf5.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>

#include "ishannot/error.h"

namespace ishannot::test {

/// what() of the ishannot::Error that `f` throws, or "" when it throws none.
inline std::string error_text(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

/// Keeps the first `keep` bytes of a file.
inline void truncate_file(const std::string& path, size_t keep) {
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(bytes.data(), static_cast<std::streamsize>(std::min(keep, bytes.size())));
}

/// Overwrites element (row, col) of the 2-D float dataset `dataset` of an HDF5 file with NaN.
inline void write_nan(const std::string& path, const std::string& dataset, hsize_t row,
                      hsize_t col) {
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  hid_t d = H5Dopen2(f, dataset.c_str(), H5P_DEFAULT);
  hid_t space = H5Dget_space(d);
  const hsize_t start[2] = {row, col}, count[2] = {1, 1};
  H5Sselect_hyperslab(space, H5S_SELECT_SET, start, nullptr, count, nullptr);
  hid_t mem = H5Screate_simple(2, count, nullptr);
  const float nan = std::nanf("");
  H5Dwrite(d, H5T_NATIVE_FLOAT, mem, space, H5P_DEFAULT, &nan);
  H5Sclose(mem);
  H5Sclose(space);
  H5Dclose(d);
  H5Fclose(f);
}

}  // namespace ishannot::test
