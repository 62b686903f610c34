#pragma once
// NumPy's .npy format (version 1.0), written by hand: the magic "\x93NUMPY", version 1 0, a
// little-endian uint16 header length, an ASCII dict {'descr': '<f8', 'fortran_order': False,
// 'shape': (...), } padded with blanks and ending in '\n' so that the data start at a multiple of
// 64 bytes, then the values in C (row-major) order. numpy.load, napari and Fiji (via its NumPy
// readers) open it.
#include <cstddef>
#include <string>
#include <vector>

namespace ishannot {

/// The .npy header (magic to the padded dict) for little-endian float64 values of `shape`.
std::string npy_header_f8(const std::vector<size_t>& shape);

/// Writes `values` (row-major, their count = the product of `shape`) as a float64 .npy file,
/// atomically. Error naming the file when the counts differ or writing fails. A big-endian host
/// is refused (the values are written as they lie in memory).
void write_npy(const std::string& path, const std::vector<double>& values,
               const std::vector<size_t>& shape);

}  // namespace ishannot
