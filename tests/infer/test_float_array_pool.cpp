// FloatArrayPool (include/ishannot/infer/float_array.h): an array's block comes back to the pool
// when its last handle goes, on whatever thread, and take() hands it out again for the same size;
// blocks still held are never handed out; at most max_free are kept; arrays outlive the pool.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "ishannot/infer/float_array.h"

using ishannot::FloatArray;
using ishannot::FloatArrayPool;

TEST(FloatArrayPool, ReusesABlockOnceItsLastHandleIsGone) {
  FloatArrayPool pool;
  FloatArray a = pool.take({2, 3, 4});
  const float* block = a.data;
  FloatArray view = a.first(1);  // shares the block
  a = FloatArray();
  EXPECT_EQ(pool.free_blocks(), 0u) << "a view still holds the block";
  view = FloatArray();
  EXPECT_EQ(pool.free_blocks(), 1u);
  const FloatArray b = pool.take({4, 6});  // the same number of floats, another shape
  EXPECT_EQ(b.data, block);
  EXPECT_EQ(b.size(), 24);
  EXPECT_EQ(pool.free_blocks(), 0u);
}

TEST(FloatArrayPool, NeverHandsOutABlockInUse) {
  FloatArrayPool pool;
  std::vector<FloatArray> held;
  std::set<const float*> blocks;
  for (int i = 0; i < 5; ++i) {
    held.push_back(pool.take({1000}));
    for (int64_t k = 0; k < 1000; ++k) held.back().data[k] = static_cast<float>(i);
    blocks.insert(held.back().data);
  }
  EXPECT_EQ(blocks.size(), 5u);
  for (int i = 0; i < 5; ++i)  // nobody wrote over anybody
    for (int64_t k = 0; k < 1000; ++k) ASSERT_EQ(held[static_cast<size_t>(i)].data[k], i);
}

TEST(FloatArrayPool, AnotherSizeGetsAnotherBlock) {
  FloatArrayPool pool;
  pool.take({64});  // dropped at once: one free block of 64 floats
  EXPECT_EQ(pool.free_blocks(), 1u);
  const FloatArray big = pool.take({4096});
  EXPECT_EQ(pool.free_blocks(), 1u) << "the small block was not used for a bigger array";
  for (int64_t k = 0; k < 4096; ++k) big.data[k] = 1.0f;  // all of it is ours
}

TEST(FloatArrayPool, KeepsAtMostMaxFreeBlocks) {
  FloatArrayPool pool(2);
  {
    std::vector<FloatArray> arrays;
    for (int i = 0; i < 5; ++i) arrays.push_back(pool.take({16}));
  }
  EXPECT_EQ(pool.free_blocks(), 2u);
}

TEST(FloatArrayPool, TakesBackBlocksDroppedOnAnotherThread) {
  FloatArrayPool pool;
  FloatArray a = pool.take({8, 8});
  const float* block = a.data;
  std::thread consumer([array = std::move(a)]() mutable { array = FloatArray(); });
  consumer.join();
  EXPECT_EQ(pool.free_blocks(), 1u);
  EXPECT_EQ(pool.take({64}).data, block);
}

TEST(FloatArrayPool, ArraysOutliveThePool) {
  FloatArray kept;
  {
    FloatArrayPool pool;
    kept = pool.take({3});
    pool.take({3});  // a free block when the pool goes
  }
  kept.data[0] = kept.data[1] = kept.data[2] = 2.0f;  // still ours (under valgrind: no error)
  EXPECT_EQ(kept.data[0] + kept.data[1] + kept.data[2], 6.0f);
}
