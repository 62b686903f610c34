#pragma once
// FloatArray: a contiguous row-major float32 array with its shape — what the torch-free forward
// pass (infer/plan_engine.h) reads and writes: an N x 3 x H x W input batch, N x C x H x W tap
// maps, N x D rows. It owns its data (allocate(), 64-byte aligned) or shares an owner's
// (`owner` keeps the memory alive: a memory-mapped file, a torch tensor on the nets side, the
// array it is a view of). Copying a FloatArray copies the handle, not the values.
#include <cstddef>
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

/// Hands out FloatArrays whose memory comes back to it: when the last handle to an array it made
/// is dropped (on any thread), the block joins the pool's free ones (at most `max_free`; more are
/// freed), and take() reuses a free block of the same size before allocating. A producer that
/// makes one array per batch (the plan's taps, the decode thread's input batches) then writes the
/// same pages batch after batch instead of fresh ones: on the VMs of docs/BENCHMARKS.md the first
/// touch of a fresh 2 MB page costs 3-5 ms when the host backs it anew, and a 5 MB tap map at
/// batch 8 met one to three of them in a third of the batches (stop 30). Thread-safe; arrays may
/// outlive the pool (their blocks are then freed with them).
class FloatArrayPool {
 public:
  explicit FloatArrayPool(size_t max_free = 4);
  FloatArrayPool(const FloatArrayPool&) = delete;
  FloatArrayPool& operator=(const FloatArrayPool&) = delete;
  ~FloatArrayPool();

  /// An array of `shape`, uninitialised (a reused block holds an earlier array's values).
  FloatArray take(std::vector<int64_t> shape);
  /// Free blocks held now (for tests).
  size_t free_blocks() const;

 private:
  struct Shared;
  std::shared_ptr<Shared> shared_;
};

/// Outputs of a forward pass by stage index (the taps).
using TapMaps = std::map<int, FloatArray>;

}  // namespace ishannot
