// NumPy .npy files written by hand (npy.h).
#include "ishannot/common/npy.h"

#include <cstdint>
#include <cstring>
#include <fstream>

#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"

namespace ishannot {

std::string npy_header_f8(const std::vector<size_t>& shape) {
  std::string dims;  // as numpy writes it: (), (2,), (2, 3)
  for (size_t i = 0; i < shape.size(); ++i) dims += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1) dims += ",";
  std::string dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (" + dims + "), }";
  const size_t fixed = 6 + 2 + 2;  // magic, version, header length
  const size_t total = (fixed + dict.size() + 1 + 63) / 64 * 64;
  dict += std::string(total - fixed - dict.size() - 1, ' ') + "\n";
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(dict.size() & 0xff);
  out += static_cast<char>((dict.size() >> 8) & 0xff);
  return out + dict;
}

void write_npy(const std::string& path, const std::vector<double>& values,
               const std::vector<size_t>& shape) {
  static_assert(sizeof(double) == 8, "float64 is 8 bytes");
  const uint16_t probe = 1;
  unsigned char first = 0;
  std::memcpy(&first, &probe, 1);
  if (first != 1) throw file_error(path, ".npy writer: big-endian hosts are not supported");
  size_t count = 1;
  for (size_t d : shape) count *= d;
  if (count != values.size())
    throw file_error(path, ".npy: " + std::to_string(values.size()) + " values for a shape of " +
                               std::to_string(count));
  const std::string header = npy_header_f8(shape);
  write_atomically(path, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    out.write(reinterpret_cast<const char*>(values.data()),
              static_cast<std::streamsize>(values.size() * sizeof(double)));
    out.close();
    if (!out) throw file_error(path, "cannot be written (disk full?)");
  });
}

}  // namespace ishannot
