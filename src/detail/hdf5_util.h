#pragma once
// Small RAII and attribute helpers over the HDF5 C API, shared by every HDF5 file we read or
// write (feature stores, Keras weight files). Every failure becomes an ishannot::Error naming the
// file; HDF5's own error printing is switched off (the library never prints).
#include <hdf5.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ishannot::detail {

/// Owns one HDF5 identifier and closes it with the matching H5*close.
class Hid {
 public:
  Hid() = default;
  explicit Hid(hid_t id) : id_(id) {}
  ~Hid() { reset(); }
  Hid(Hid&& other) noexcept : id_(other.id_) { other.id_ = -1; }
  Hid& operator=(Hid&& other) noexcept;
  Hid(const Hid&) = delete;
  Hid& operator=(const Hid&) = delete;
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset();

 private:
  hid_t id_ = -1;
};

/// Turns off HDF5's automatic error printing (once per process).
void silence_hdf5();

/// Throws Error("path: what") when id < 0; returns id otherwise.
hid_t check_id(hid_t id, const std::string& path, const std::string& what);
/// Throws Error("path: what") when status < 0.
void check_status(herr_t status, const std::string& path, const std::string& what);
/// For writes: throws Error("path: what: REASON") when status < 0, REASON saying "disk full" or
/// "file-size limit (ulimit -f) reached" when that is why (write_failure_reason).
void check_write(herr_t status, const std::string& path, const std::string& what);
/// Why a write to `path` failed, as far as can be told: the system error HDF5 recorded on its
/// error stack (ENOSPC: "disk full ...", EFBIG: "file-size limit ...", EDQUOT...), else the state
/// of the file system (almost no free space) and of RLIMIT_FSIZE; "" when nothing explains it.
std::string write_failure_reason(const std::string& path);

/// A file-access property list: HDF5 >= 1.8 format (large attributes stored densely) and, when
/// `own_lock`, HDF5's own file locking off (the caller holds a FileLock on the file, which
/// HDF5's lock would collide with).
Hid file_access(bool own_lock);

/// The IEEE half type as h5py defines it (a copy of F32LE with 1/5/10-bit fields, bias 15).
Hid make_half_type();
/// A variable-length UTF-8 string type.
Hid make_string_type();

void write_string_attribute(hid_t object, const std::string& name, const std::string& value,
                            const std::string& path);
void write_int_attribute(hid_t object, const std::string& name, int64_t value,
                         const std::string& path);
/// All attributes of an object as text (strings as they are, integers and floats printed).
std::map<std::string, std::string> read_attributes(hid_t object, const std::string& path);

/// Reads a 1-D dataset of strings (variable or fixed length, any padding).
std::vector<std::string> read_strings(hid_t dataset, const std::string& path);
/// Reads the integer attribute `name` of `object`; false when it is absent or not an integer.
bool read_int_attribute(hid_t object, const std::string& name, int64_t* value);
/// Reads a string or string-array attribute (variable or fixed length); empty when absent.
std::vector<std::string> read_string_attribute(hid_t object, const std::string& name,
                                               const std::string& path);

/// Small whole datasets (model bundles; src/features/hdf5_arrays.cpp): 1-D string arrays and
/// row-major numeric arrays of any rank (dims), written contiguous, read back whole. Readers throw
/// Error naming the file and the dataset when it is missing or of another shape.
void write_strings(hid_t parent, const std::string& name, const std::vector<std::string>& values,
                   const std::string& path);
void write_doubles(hid_t parent, const std::string& name, const std::vector<double>& values,
                   const std::vector<hsize_t>& dims, const std::string& path);
void write_int64s(hid_t parent, const std::string& name, const std::vector<int64_t>& values,
                  const std::string& path);
std::vector<std::string> read_string_dataset(hid_t parent, const std::string& name,
                                             const std::string& path);
std::vector<double> read_doubles(hid_t parent, const std::string& name, size_t expected,
                                 const std::string& path);
std::vector<int64_t> read_int64s(hid_t parent, const std::string& name, size_t expected,
                                 const std::string& path);

}  // namespace ishannot::detail
