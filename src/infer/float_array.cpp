// FloatArray (include/ishannot/infer/float_array.h).
#include "ishannot/infer/float_array.h"

#include <cstdlib>
#include <cstring>
#include <new>

#include "ishannot/common/assert.h"

namespace ishannot {

int64_t FloatArray::size() const {
  if (shape.empty()) return 0;
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

FloatArray FloatArray::allocate(std::vector<int64_t> shape, bool zero) {
  FloatArray out;
  out.shape = std::move(shape);
  ISHANNOT_ASSERT(out.size() >= 0, "a negative extent");
  const size_t bytes = (static_cast<size_t>(out.size()) * sizeof(float) + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, bytes > 0 ? bytes : 64);
  if (!p) throw std::bad_alloc();
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

}  // namespace ishannot
