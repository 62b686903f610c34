#include "ishannot/features/pool_grid.h"

#include "ishannot/common/error.h"

namespace ishannot {

namespace {
constexpr int kMaxCells = 64;  // per side; more cells than that is no pooling worth the name

bool parse_int(const std::string& text, int* value) {
  if (text.empty() || text.size() > 4) return false;
  for (char c : text)
    if (c < '0' || c > '9') return false;
  *value = std::stoi(text);
  return true;
}
}  // namespace

std::string PoolGrid::text() const {
  if (!pooled()) return "none";
  return op + ":" + std::to_string(rows) + "x" + std::to_string(cols);
}

std::string PoolGrid::check() const {
  if (op != "avg" && op != "max") return "pool operation must be avg or max (got " + op + ")";
  if (rows == 0 && cols == 0) return "";
  if (rows < 1 || cols < 1 || rows > kMaxCells || cols > kMaxCells)
    return "pool grid sides must be in 1.." + std::to_string(kMaxCells);
  return "";
}

PoolGrid parse_pool_grid(const std::string& text) {
  const auto fail = [&]() {
    return Error("--pool '" + text +
                 "': expected none, G, GhxGw (rows x columns, e.g. 2x5), avg or max, optionally "
                 "prefixed avg: or max: (e.g. max:4x4)");
  };
  PoolGrid grid;
  if (text == "none" || text == "flatten") return grid;
  std::string rest = text;
  if (const auto colon = rest.find(':'); colon != std::string::npos) {
    grid.op = rest.substr(0, colon);
    rest = rest.substr(colon + 1);
  } else if (rest == "avg" || rest == "max") {
    grid.op = rest;
    rest = "1x1";
  }
  if (grid.op != "avg" && grid.op != "max") throw fail();
  const auto x = rest.find('x');
  if (x == std::string::npos) {
    if (!parse_int(rest, &grid.rows)) throw fail();
    grid.cols = grid.rows;
  } else if (!parse_int(rest.substr(0, x), &grid.rows) ||
             !parse_int(rest.substr(x + 1), &grid.cols)) {
    throw fail();
  }
  if (!grid.pooled()) throw fail();
  if (auto problem = grid.check(); !problem.empty())
    throw Error("--pool '" + text + "': " + problem);
  return grid;
}

}  // namespace ishannot
