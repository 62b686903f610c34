#pragma once
// Where tests find the real data: ../shared next to the source tree (skip when missing), and the
// cache folder filled by scripts/setup.sh; temp folders that clean up after themselves.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "ishannot/common/fs_util.h"

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
// One of the real photos scripts/setup.sh extracts from Debian's opencv-doc (baboon.jpg,
// orange.jpg, messi5.jpg), under the cache folder.
inline std::string photo(const std::string& name) {
  return cache_dir() + "/photos/" + name;
}

inline std::string ishannot_binary() {
  if (const char* b = std::getenv("ISHANNOT_BINARY"); b && *b) return b;
  return (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "ishannot").string();
}

// The folders temp_dir() made in this process, removed when the process ends (static
// destruction) unless a test failed: then they are kept for inspection and named on stderr.
// Only the process that made them removes them (a forked child that calls exit() does not).
class TempDirRegistry {
 public:
  void add(const std::filesystem::path& dir) { dirs_.push_back(dir); }
  ~TempDirRegistry() {
    if (::getpid() != owner_ || dirs_.empty()) return;
    const ::testing::UnitTest* unit = ::testing::UnitTest::GetInstance();
    const bool keep = unit->failed_test_count() > 0 || std::getenv("ISHANNOT_KEEP_TEST_DIRS");
    for (const auto& dir : dirs_) {
      if (keep) {
        std::fprintf(stderr, "kept for inspection: %s\n", dir.c_str());
      } else {
        std::error_code ignored;
        std::filesystem::remove_all(dir, ignored);
      }
    }
  }

 private:
  pid_t owner_ = ::getpid();
  std::vector<std::filesystem::path> dirs_;
};

inline TempDirRegistry& temp_dir_registry() {
  static TempDirRegistry dirs;
  return dirs;
}

/// A fresh empty temp folder for one test; removed when the test process ends, kept (and named
/// on stderr) when a test of the process failed or ISHANNOT_KEEP_TEST_DIRS is set.
inline std::string temp_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("ishannot-test-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  temp_dir_registry().add(dir);
  return dir.string();
}

}  // namespace ishannot::test

#define ISHANNOT_SKIP_WITHOUT_SHARED()                                                     \
  do {                                                                                     \
    if (ishannot::test::shared_data_dir().empty())                                         \
      GTEST_SKIP() << "../shared/data/bdgp-mini not found next to the checkout: skipping " \
                      "the real-data test";                                                \
  } while (0)
