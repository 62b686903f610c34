// FloatArray (include/ishannot/infer/float_array.h).
#include "ishannot/infer/float_array.h"

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <utility>

#include "ishannot/common/assert.h"

namespace ishannot {

int64_t FloatArray::size() const {
  if (shape.empty()) return 0;
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

namespace {

// The bytes of an array of `count` floats as allocated: a multiple of 64, at least 64.
size_t block_bytes(int64_t count) {
  ISHANNOT_ASSERT(count >= 0, "a negative extent");
  const size_t bytes = (static_cast<size_t>(count) * sizeof(float) + 63) / 64 * 64;
  return bytes > 0 ? bytes : 64;
}

void* aligned_block(size_t bytes) {
  void* p = std::aligned_alloc(64, bytes);
  if (!p) throw std::bad_alloc();
  return p;
}

}  // namespace

FloatArray FloatArray::allocate(std::vector<int64_t> shape, bool zero) {
  FloatArray out;
  out.shape = std::move(shape);
  const size_t bytes = block_bytes(out.size());
  void* p = aligned_block(bytes);
  if (zero) std::memset(p, 0, bytes);
  out.data = static_cast<float*>(p);
  out.owner = std::shared_ptr<void>(p, [](void* q) { std::free(q); });
  return out;
}

FloatArray FloatArray::first(int64_t n) const {
  ISHANNOT_ASSERT(!shape.empty() && n >= 0 && n <= shape[0], "first(n) within the first axis");
  FloatArray out = *this;
  out.shape[0] = n;
  return out;
}

struct FloatArrayPool::Shared {
  std::mutex mutex;
  size_t max_free = 0;
  std::vector<std::pair<size_t, void*>> free;  // (bytes, block)

  void give_back(size_t bytes, void* block) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (free.size() < max_free) {
        free.emplace_back(bytes, block);
        return;
      }
    }
    std::free(block);
  }
  void* reuse(size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex);
    for (size_t i = 0; i < free.size(); ++i) {
      if (free[i].first != bytes) continue;
      void* block = free[i].second;
      free.erase(free.begin() + static_cast<std::ptrdiff_t>(i));
      return block;
    }
    return nullptr;
  }
};

FloatArrayPool::FloatArrayPool(size_t max_free) : shared_(std::make_shared<Shared>()) {
  shared_->max_free = max_free;
}

FloatArrayPool::~FloatArrayPool() {
  // The free blocks go now; those still held by arrays go with them (their deleters keep
  // `Shared` alive and find no room once max_free is 0).
  std::vector<std::pair<size_t, void*>> blocks;
  {
    std::lock_guard<std::mutex> lock(shared_->mutex);
    shared_->max_free = 0;
    blocks.swap(shared_->free);
  }
  for (const auto& [bytes, block] : blocks) std::free(block);
}

FloatArray FloatArrayPool::take(std::vector<int64_t> shape) {
  FloatArray out;
  out.shape = std::move(shape);
  const size_t bytes = block_bytes(out.size());
  void* block = shared_->reuse(bytes);
  if (!block) block = aligned_block(bytes);
  out.data = static_cast<float*>(block);
  out.owner = std::shared_ptr<void>(
      block, [shared = shared_, bytes](void* q) { shared->give_back(bytes, q); });
  return out;
}

size_t FloatArrayPool::free_blocks() const {
  std::lock_guard<std::mutex> lock(shared_->mutex);
  return shared_->free.size();
}

}  // namespace ishannot
