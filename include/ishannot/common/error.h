#pragma once
// Errors. Two tiers (docs/STYLE.md 4): bad input from a user or a file throws ishannot::Error,
// whose message is one line naming the file (or value) and the problem; a broken internal invariant
// is an assert. The CLI prints Error::what() on one line and exits 1.
#include <stdexcept>
#include <string>

namespace ishannot {

/// A user-facing error: bad file, bad value, bad option. what() is a single line.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

/// Error about a file: "PATH: PROBLEM".
inline Error file_error(const std::string& path, const std::string& problem) {
  return Error(path + ": " + problem);
}

}  // namespace ishannot
