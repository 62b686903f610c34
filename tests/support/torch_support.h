#pragma once
// Tensor helpers for the CNN tests that compare with libtorch or the Python peer: raw float files
// and the relative error the peer comparisons use.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <fstream>
#include <string>

namespace ishannot::test {

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
