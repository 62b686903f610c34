// Stage-range names and the Dataset's small accessors.
#include <algorithm>
#include <cctype>

#include "detail/csv.h"
#include "ishannot/common/error.h"
#include "ishannot/data/dataset.h"

namespace ishannot {

const std::vector<std::string>& stage_range_names() {
  static const std::vector<std::string> names = {"1-3", "4-6", "7-8", "9-10", "11-12", "13-16"};
  return names;
}

std::string normalise_stage_range(const std::string& name) {
  std::string s;
  for (char c : detail::trim(name)) {
    if (c == ' ' || c == '\t') continue;
    s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  for (const char* prefix : {"stages", "stage"}) {
    if (s.rfind(prefix, 0) == 0) {
      s = s.substr(std::string(prefix).size());
      break;
    }
  }
  if (s == "13-17") s = "13-16";
  const auto& names = stage_range_names();
  if (s.size() == 1 && s[0] >= '1' && s[0] <= '6') return names[s[0] - '1'];
  if (std::find(names.begin(), names.end(), s) != names.end()) return s;
  throw Error("unknown stage range '" + name +
              "' (expected 1-3, 4-6, 7-8, 9-10, 11-12, 13-16 (or 13-17), or BDGP stage numbers "
              "1..6)");
}

std::vector<int> Dataset::indices_of_stage(const std::string& stage_range) const {
  const std::string s = normalise_stage_range(stage_range);
  std::vector<int> out;
  for (size_t i = 0; i < images.size(); ++i)
    if (images[i].stage_range == s) out.push_back(static_cast<int>(i));
  return out;
}

std::vector<std::string> Dataset::stage_ranges() const {
  std::vector<std::string> out;
  for (const auto& name : stage_range_names()) {
    for (const auto& im : images) {
      if (im.stage_range == name) {
        out.push_back(name);
        break;
      }
    }
  }
  return out;
}

void Dataset::add_skip(const std::string& reason, int n) {
  if (n <= 0) return;
  for (auto& s : skipped) {
    if (s.reason == reason) {
      s.count += n;
      return;
    }
  }
  skipped.push_back({reason, n});
}

int Dataset::listed_count(const std::string& stage_range, const std::string& view) const {
  int n = 0;
  if (!listed.empty()) {
    for (const auto& l : listed)
      if (l.stage_range == stage_range && (view.empty() || l.view == view)) n += l.count;
    return n;
  }
  for (const auto& im : images)
    if (im.stage_range == stage_range && (view.empty() || im.view == view)) ++n;
  return n;
}

int stage_order(const std::string& stage_range) {
  const auto& names = stage_range_names();
  const auto it = std::find(names.begin(), names.end(), stage_range);
  return it == names.end() ? 0 : static_cast<int>(it - names.begin()) + 1;
}

}  // namespace ishannot
