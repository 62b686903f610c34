// Precision names (features/precision.h).
#include "ishannot/features/precision.h"

#include "ishannot/common/enum_names.h"

namespace ishannot {

namespace {
constexpr EnumName<Precision> kPrecisionNames[] = {{Precision::kFp32, "fp32"},
                                                   {Precision::kBf16, "bf16"}};
}  // namespace

std::string precision_name(Precision precision) {
  return enum_name(kPrecisionNames, precision);
}

Precision parse_precision(const std::string& name) {
  return parse_enum(kPrecisionNames, name, "precision");
}

}  // namespace ishannot
