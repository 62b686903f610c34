#pragma once
// FloatArray: a contiguous row-major float32 array with its shape — what the torch-free forward
// pass (infer/plan_engine.h) reads and writes: an N x 3 x H x W input batch, N x C x H x W tap
// maps, N x D rows. It owns its data (allocate(), 64-byte aligned) or shares an owner's
// (`owner` keeps the memory alive: a memory-mapped file, a torch tensor on the nets side, the
// array it is a view of). Copying a FloatArray copies the handle, not the values.
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

namespace ishannot {

struct FloatArray {
  std::vector<int64_t> shape;
  float* data = nullptr;        ///< size() contiguous floats, row-major
  std::shared_ptr<void> owner;  ///< keeps `data` alive (null: the caller guarantees it)

  /// Number of elements: the product of `shape` (0 for no shape).
  int64_t size() const;
  /// A fresh array of `shape`, uninitialised (zeroed when `zero`).
  static FloatArray allocate(std::vector<int64_t> shape, bool zero = false);
  /// The first `n` entries along the first axis, sharing this array's memory.
  FloatArray first(int64_t n) const;
};

/// Outputs of a forward pass by stage index (the taps).
using TapMaps = std::map<int, FloatArray>;

}  // namespace ishannot
