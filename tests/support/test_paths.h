#pragma once
// Where tests find the real data: ../shared next to the source tree (skip when missing), and the
// cache folder filled by scripts/setup.sh.
#include <unistd.h>
#include <cstdlib>
#include <filesystem>

#include <string>

namespace ishannot::test {

inline std::string source_dir() {
  const char* s = std::getenv("ISHANNOT_SOURCE_DIR");
  return s ? s : ".";
}

/// ../shared/data next to the checkout, or "" when it is missing.
inline std::string shared_data_dir() {
  const std::string dir = source_dir() + "/../shared/data";
  return std::filesystem::exists(dir + "/bdgp-mini/images.csv") ? dir : "";
}

/// The ishannot CLI built beside the test binaries (or $ISHANNOT_BINARY).
inline std::string ishannot_binary() {
  if (const char* b = std::getenv("ISHANNOT_BINARY"); b && *b) return b;
  return (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "ishannot").string();
}

/// A fresh empty temp folder for one test.
inline std::string temp_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("ishannot-test-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

}  // namespace ishannot::test

#define ISHANNOT_SKIP_WITHOUT_SHARED()                                                     \
  do {                                                                                     \
    if (ishannot::test::shared_data_dir().empty())                                         \
      GTEST_SKIP() << "../shared/data/bdgp-mini not found next to the checkout: skipping " \
                      "the real-data test";                                                \
  } while (0)
