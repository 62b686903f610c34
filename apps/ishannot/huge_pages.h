#pragma once
// Transparent huge pages for glibc's malloc, decided by the launcher (main.cpp) before anything
// is loaded. glibc's tunable glibc.malloc.hugetlb=1 (glibc >= 2.35; older ones ignore it) makes
// malloc ask the kernel for 2 MB pages (madvise); it is read only when a process starts, so the
// launcher sets it and executes itself once more (~1 ms). Measured (docs/BENCHMARKS.md, "Stop
// 27"): extract's page faults ~10x fewer and its time 5-10 % shorter on the 2-CPU VMs.
// Header-only and free of our libraries: the launcher links none (tests/apps/test_huge_pages.cpp).
#include <cstring>
#include <string>

namespace ishannot::cli {

/// The variable that marks the second start; it holds the user's GLIBC_TUNABLES ("+" and the
/// value) or "-" when there was none, so that the processes ishannot runs (node, python3) get it
/// back.
inline constexpr const char* kSavedTunables = "ISHANNOT_SAVED_GLIBC_TUNABLES";

/// What the first start does.
struct HugePagesPlan {
  bool restart = false;  ///< execute again with the two variables below set
  std::string tunables;  ///< GLIBC_TUNABLES for the second start
  std::string saved;     ///< kSavedTunables for the second start
};

/// `opt_out`: $ISHANNOT_HUGE_PAGES ("off", the spelling of ISHANNOT_WEIGHTS_CACHE=off, or "0"
/// declines); `tunables`: $GLIBC_TUNABLES (one that names
/// glibc.malloc.hugetlb is the user's choice: left as it is); `thp_mode`: the first line of
/// /sys/kernel/mm/transparent_hugepage/enabled, nullptr when unreadable (then, and for
/// "[never]", nothing to gain). nullptr for an unset variable.
inline HugePagesPlan plan_huge_pages(const char* opt_out, const char* tunables,
                                     const char* thp_mode) {
  HugePagesPlan plan;
  if ((opt_out && (std::strcmp(opt_out, "off") == 0 || std::strcmp(opt_out, "0") == 0)) ||
      (tunables && std::strstr(tunables, "glibc.malloc.hugetlb")) || !thp_mode ||
      std::strstr(thp_mode, "[never]") || !std::strchr(thp_mode, '['))
    return plan;
  const std::string original = tunables ? tunables : "";
  plan.restart = true;
  plan.tunables =
      original.empty() ? "glibc.malloc.hugetlb=1" : original + ":glibc.malloc.hugetlb=1";
  plan.saved = tunables ? "+" + original : "-";
  return plan;
}

/// At the second start, from kSavedTunables: the user's GLIBC_TUNABLES to put back (`*unset`
/// when there was none).
inline std::string original_tunables(const char* saved, bool* unset) {
  *unset = !saved || saved[0] != '+';
  return *unset ? std::string() : std::string(saved + 1);
}

}  // namespace ishannot::cli
