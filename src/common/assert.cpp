#include "ishannot/common/assert.h"

#include <cstdio>
#include <cstdlib>

namespace ishannot::detail {

void assertion_failed(const char* condition, const std::string& message, const char* file,
                      int line) {
  // The one place the library writes to stderr: the process is about to abort on a bug.
  std::fprintf(stderr, "ishannot: internal error at %s:%d: %s%s%s%s\n", file, line, condition,
               message.empty() ? "" : " (", message.c_str(), message.empty() ? "" : ")");
  std::fflush(stderr);
  std::abort();
}

}  // namespace ishannot::detail
