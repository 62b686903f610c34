#pragma once
// The one way an enum meets its names (option values, TSV and JSON fields): a table of (value,
// name) pairs per enum, next to its parse_/_name functions. A value's first name is its canonical
// spelling (what outputs write); later names of the same value are aliases accepted on input
// ("gray" for "grey", "standardize" for "standardise").
//
//   constexpr EnumName<GroupRule> kGroupRuleNames[] = {
//       {GroupRule::kMean, "mean"}, {GroupRule::kMax, "max"}, {GroupRule::kVotes, "votes"}};
//   GroupRule parse_group_rule(const std::string& s) {
//     return parse_enum(kGroupRuleNames, s, "group rule");
//   }
#include <cstddef>
#include <string>

#include "ishannot/common/error.h"

namespace ishannot {

template <class E>
struct EnumName {
  E value;
  const char* name;
};

/// The value named `name`; Error "unknown WHAT 'name' (expected a, b or c)" listing the
/// canonical names otherwise.
template <class E, size_t N>
E parse_enum(const EnumName<E> (&table)[N], const std::string& name, const std::string& what) {
  for (const auto& entry : table)
    if (name == entry.name) return entry.value;
  std::string expected;
  size_t canonical = 0, listed = 0;
  for (size_t i = 0; i < N; ++i) {
    bool first = true;
    for (size_t j = 0; j < i; ++j) first = first && !(table[j].value == table[i].value);
    canonical += first;
  }
  for (size_t i = 0; i < N; ++i) {
    bool first = true;
    for (size_t j = 0; j < i; ++j) first = first && !(table[j].value == table[i].value);
    if (!first) continue;
    ++listed;
    expected += (listed == 1           ? ""
                 : listed == canonical ? " or "
                                       : ", ") +
                std::string(table[i].name);
  }
  throw Error("unknown " + what + " '" + name + "' (expected " + expected + ")");
}

/// The canonical name of `value` ("?" when the table lacks it).
template <class E, size_t N>
std::string enum_name(const EnumName<E> (&table)[N], E value) {
  for (const auto& entry : table)
    if (entry.value == value) return entry.name;
  return "?";
}

}  // namespace ishannot
