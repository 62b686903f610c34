#pragma once
// Helpers for the CNN tests: the default ResNet50 weights and photos from scripts/setup.sh, the
// independent Python peer (bench/peer_features.py on Debian's python3-torch). Torch-free, so the
// tests that only drive the CLI build without libtorch's headers (support/torch_support.h has
// the tensor helpers).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "ishannot/common/fs_util.h"
#include "ishannot/infer/resnet50.h"
#include "support/test_paths.h"

namespace ishannot::test {

inline bool have_default_weights() {
  return std::filesystem::exists(default_resnet50_weights()) &&
         std::filesystem::exists(photo("baboon.jpg"));
}

inline bool have_python_torch() {
  static const bool ok = std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") == 0;
  return ok;
}

/// Runs the peer script with arguments; returns its exit status.
inline int run_peer(const std::string& args) {
  const std::string cmd = "/usr/bin/python3 " + source_dir() + "/bench/peer_features.py " + args;
  return std::system(cmd.c_str());
}

}  // namespace ishannot::test

#define ISHANNOT_SKIP_WITHOUT_WEIGHTS()                                          \
  do {                                                                           \
    if (!ishannot::test::have_default_weights())                                 \
      GTEST_SKIP() << "ResNet50 weights/photos not in " << ishannot::cache_dir() \
                   << ": run scripts/setup.sh";                                  \
  } while (0)

#define ISHANNOT_SKIP_WITHOUT_PYTHON_TORCH()                                          \
  do {                                                                                \
    if (!ishannot::test::have_python_torch())                                         \
      GTEST_SKIP() << "Debian python3-torch (the independent peer) is not installed"; \
  } while (0)
