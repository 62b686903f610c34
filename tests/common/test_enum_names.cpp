// The shared enum <-> name table (common/enum_names.h): canonical names out, aliases in, one
// error listing the canonical names — written out by hand here.
#include <gtest/gtest.h>

#include "ishannot/common/enum_names.h"
#include "ishannot/eval/bags.h"
#include "ishannot/learn/gram.h"

using namespace ishannot;

namespace {
enum class Colour { kRed, kGreen, kBlue };
constexpr EnumName<Colour> kColours[] = {{Colour::kRed, "red"},
                                         {Colour::kGreen, "green"},
                                         {Colour::kGreen, "verde"},
                                         {Colour::kBlue, "blue"}};
}  // namespace

TEST(EnumNames, CanonicalNamesOutAliasesInOneErrorLine) {
  EXPECT_EQ(parse_enum(kColours, "verde", "colour"), Colour::kGreen);
  EXPECT_EQ(enum_name(kColours, Colour::kGreen), "green");
  try {
    parse_enum(kColours, "pink", "colour");
    FAIL() << "pink parsed";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "unknown colour 'pink' (expected red, green or blue)");
  }
  // The tables in use: an alias and a round trip.
  EXPECT_EQ(parse_preprocessing("standardize"), Preprocessing::kStandardise);
  EXPECT_EQ(preprocessing_name(Preprocessing::kStandardise), "standardise");
  for (const char* pool : {"mean", "max", "meanmax", "attention"})
    EXPECT_EQ(bag_pool_name(parse_bag_pool(pool)), pool);
  EXPECT_THROW(parse_bag_pool("sum"), Error);
}
