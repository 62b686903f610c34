#pragma once
// ISHANNOT_ASSERT: the second tier of errors (docs/STYLE.md 4). A broken internal invariant is a
// bug, not bad input: it prints "ishannot: internal error at FILE:LINE: CONDITION (MESSAGE)" on
// stderr and aborts, in every build type (unlike assert, which Release builds compile out). Bad
// input from a user or a file throws ishannot::Error instead.
#include <string>

namespace ishannot::detail {
[[noreturn]] void assertion_failed(const char* condition, const std::string& message,
                                   const char* file, int line);
}  // namespace ishannot::detail

#define ISHANNOT_ASSERT(condition, message) \
  ((condition) ? static_cast<void>(0)       \
               : ::ishannot::detail::assertion_failed(#condition, (message), __FILE__, __LINE__))
