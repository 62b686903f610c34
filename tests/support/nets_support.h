#pragma once
// Helpers for the CNN tests: the default ResNet50 weights and photos from scripts/setup.sh, the
// independent Python peer (bench/peer_features.py on Debian's python3-torch), raw float files.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "ishannot/common/fs_util.h"
#include "ishannot/nets/backbone.h"
#include "support/test_paths.h"

namespace ishannot::test {

inline std::string photo(const std::string& name) {
  return cache_dir() + "/photos/" + name;
}

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

inline torch::Tensor read_f32(const std::string& path, c10::IntArrayRef shape) {
  torch::Tensor t = torch::empty(shape);
  std::ifstream in(path, std::ios::binary);
  in.read(reinterpret_cast<char*>(t.data_ptr<float>()),
          static_cast<std::streamsize>(t.numel() * 4));
  EXPECT_EQ(in.gcount(), t.numel() * 4) << path;
  return t;
}

inline void write_f32(const std::string& path, const torch::Tensor& t) {
  torch::Tensor c = t.contiguous();
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(c.data_ptr<float>()),
             static_cast<std::streamsize>(c.numel() * 4));
}

/// max |a - b| / max |b|: the relative error the peer comparisons use.
inline double relative_error(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>() / std::max(b.abs().max().item<double>(), 1e-12);
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
