// The launcher's huge-pages decision (apps/ishannot/huge_pages.h), values by hand: when it
// restarts, what GLIBC_TUNABLES it sets, and what it gives back to the processes it runs.
#include <gtest/gtest.h>

#include "../../apps/ishannot/huge_pages.h"

using namespace ishannot::cli;

TEST(HugePages, RestartsOnlyWhereTheKernelOffersThemAndTheUserDidNotDecide) {
  const char* madvise = "always [madvise] never\n";
  auto plan = plan_huge_pages(nullptr, nullptr, madvise);
  EXPECT_TRUE(plan.restart);
  EXPECT_EQ(plan.tunables, "glibc.malloc.hugetlb=1");
  EXPECT_EQ(plan.saved, "-");
  EXPECT_TRUE(plan_huge_pages(nullptr, nullptr, "[always] madvise never\n").restart);

  plan = plan_huge_pages("1", "glibc.malloc.check=0", madvise);  // the user's other tunables kept
  EXPECT_TRUE(plan.restart);
  EXPECT_EQ(plan.tunables, "glibc.malloc.check=0:glibc.malloc.hugetlb=1");
  EXPECT_EQ(plan.saved, "+glibc.malloc.check=0");
  plan = plan_huge_pages(nullptr, "", madvise);  // set but empty: given back as set and empty
  EXPECT_EQ(plan.tunables, "glibc.malloc.hugetlb=1");
  EXPECT_EQ(plan.saved, "+");

  EXPECT_FALSE(plan_huge_pages("off", nullptr, madvise).restart);  // declined
  EXPECT_FALSE(plan_huge_pages("0", nullptr, madvise).restart);
  EXPECT_FALSE(plan_huge_pages(nullptr, "glibc.malloc.hugetlb=0", madvise).restart);
  EXPECT_FALSE(plan_huge_pages(nullptr, nullptr, "always madvise [never]\n").restart);
  EXPECT_FALSE(plan_huge_pages(nullptr, nullptr, nullptr).restart);  // unreadable
  EXPECT_FALSE(plan_huge_pages(nullptr, nullptr, "").restart);
}

TEST(HugePages, TheSecondStartGivesBackWhatTheUserHad) {
  bool unset = false;
  EXPECT_EQ(original_tunables("+glibc.malloc.check=0", &unset), "glibc.malloc.check=0");
  EXPECT_FALSE(unset);
  EXPECT_EQ(original_tunables("+", &unset), "");
  EXPECT_FALSE(unset);
  original_tunables("-", &unset);
  EXPECT_TRUE(unset);
}
