#include <algorithm>
#include <cmath>

#include "ishannot/common/enum_names.h"
#include "ishannot/common/error.h"
#include "ishannot/sparse/spatial_pooling.h"

namespace ishannot {

constexpr EnumName<PoolingKind> kPoolingKindNames[] = {{PoolingKind::kMax, "max"},
                                                       {PoolingKind::kAverage, "avg"},
                                                       {PoolingKind::kAverage, "average"},
                                                       {PoolingKind::kSqrtMeanSquare, "sqrt"}};

PoolingKind parse_pooling_kind(const std::string& name) {
  return parse_enum(kPoolingKindNames, name, "pooling");
}

std::string pooling_kind_name(PoolingKind kind) {
  return enum_name(kPoolingKindNames, kind);
}

std::string PyramidParams::check() const {
  if (levels.empty()) return "pyramid: no level given";
  for (const auto& level : levels) {
    if (level.rows < 1 || level.rows > 64 || level.cols < 1 || level.cols > 64)
      return "pyramid: grid " + std::to_string(level.rows) + "x" + std::to_string(level.cols) +
             " has a side outside 1..64";
  }
  return "";
}

int PyramidParams::cells() const {
  int total = 0;
  for (const auto& level : levels) total += level.rows * level.cols;
  return total;
}

std::string PyramidParams::text() const {
  std::string out;
  for (const auto& level : levels)
    out += (out.empty() ? "" : ",") + std::to_string(level.rows) + "x" + std::to_string(level.cols);
  return out;
}

std::vector<float> pool_codes(const SparseCodes& codes, const std::vector<float>& x,
                              const std::vector<float>& y, int width, int height,
                              const PyramidParams& pyramid, PoolingKind kind) {
  if (auto problem = pyramid.check(); !problem.empty()) throw Error(problem);
  if (x.size() != static_cast<size_t>(codes.count()) || y.size() != x.size()) {
    throw Error("pooling: " + std::to_string(x.size()) + " positions for " +
                std::to_string(codes.count()) + " codes");
  }
  const size_t k = static_cast<size_t>(codes.atoms);
  std::vector<double> acc(k * pyramid.cells(), 0.0);
  std::vector<int> members(pyramid.cells(), 0);
  for (int j = 0; j < codes.count(); ++j) {
    int cell_base = 0;
    for (const auto& level : pyramid.levels) {
      const int cx =
          std::clamp(static_cast<int>(std::floor(x[j] * level.cols / width)), 0, level.cols - 1);
      const int cy =
          std::clamp(static_cast<int>(std::floor(y[j] * level.rows / height)), 0, level.rows - 1);
      const int cell = cell_base + cy * level.cols + cx;
      ++members[cell];
      double* out = acc.data() + static_cast<size_t>(cell) * k;
      for (int64_t p = codes.start[j]; p < codes.start[j + 1]; ++p) {
        const double v = std::abs(static_cast<double>(codes.value[p]));
        double& o = out[codes.index[p]];
        if (kind == PoolingKind::kMax) {
          o = std::max(o, v);
        } else if (kind == PoolingKind::kAverage) {
          o += v;
        } else {
          o += v * v;
        }
      }
      cell_base += level.rows * level.cols;
    }
  }
  std::vector<float> pooled(acc.size());
  double norm2 = 0;
  for (size_t cell = 0; cell < members.size(); ++cell) {
    for (size_t i = 0; i < k; ++i) {
      double v = acc[cell * k + i];
      if (kind != PoolingKind::kMax && members[cell] > 0) v /= members[cell];
      if (kind == PoolingKind::kSqrtMeanSquare) v = std::sqrt(v);
      pooled[cell * k + i] = static_cast<float>(v);
      norm2 += v * v;
    }
  }
  if (pyramid.l2_normalise && norm2 > 0) {
    const double scale = 1.0 / std::sqrt(norm2);
    for (float& v : pooled) v = static_cast<float>(v * scale);
  }
  return pooled;
}

}  // namespace ishannot
