#pragma once
// SHA-256 of a byte range in memory (a mapped file), lower-case hex; the same digest as
// fs_util.h's sha256_bytes and sha256_file, from the same implementation (src/common/fs_util.cpp).
#include <cstddef>
#include <string>

namespace ishannot {

std::string sha256_data(const void* data, size_t size);

}  // namespace ishannot
