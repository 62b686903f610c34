// Stage parsing (stage_range.h), stage-range names and the Dataset's small accessors.
#include <algorithm>
#include <cctype>

#include "detail/csv.h"
#include "ishannot/common/error.h"
#include "ishannot/data/dataset.h"
#include "ishannot/data/stage_range.h"

namespace ishannot {

const std::vector<std::string>& stage_range_names() {
  static const std::vector<std::string> names = {"1-3", "4-6", "7-8", "9-10", "11-12", "13-16"};
  return names;
}

namespace {

// The last embryonic stage of each BDGP range, in order (stage 17 belongs to the last: below).
constexpr int kRangeLast[] = {3, 6, 8, 10, 12, 16};
constexpr int kLastStage = 17;

const char* const kGrammar =
    "expected an embryonic stage 1..17 (e.g. 14), a range of stages within one BDGP range (4-6, "
    "14-15, 13-17) or a BDGP range number written range:1 .. range:6";

// The BDGP range (index 0..5) holding embryonic stage `stage` (1..17; 17 -> 13-16).
int range_of_stage(int stage) {
  for (int r = 0; r < 6; ++r)
    if (stage <= kRangeLast[r]) return r;
  return 5;
}

// Non-negative integer, or -1 when `s` is not one.
int to_number(const std::string& s) {
  if (s.empty() || s.size() > 3) return -1;
  for (char c : s)
    if (c < '0' || c > '9') return -1;
  return std::stoi(s);
}

int stage_number(const std::string& s, const std::string& text) {
  const int n = to_number(s);
  if (n < 1 || n > kLastStage)
    throw Error("stage '" + text + "': '" + s + "' is not an embryonic stage 1.." +
                std::to_string(kLastStage) + " (" + kGrammar + ")");
  return n;
}

// Lower case, no blanks, without a leading "stage"/"stages" (and a '_' or ':' after it);
// `prefixed` says whether there was one.
std::string simplify(const std::string& text, bool& prefixed) {
  prefixed = false;
  std::string s;
  for (char c : detail::trim(text)) {
    if (c == ' ' || c == '\t') continue;
    s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  for (const char* prefix : {"stages", "stage"}) {
    if (s.rfind(prefix, 0) == 0) {
      s = s.substr(std::string(prefix).size());
      if (!s.empty() && (s[0] == '_' || s[0] == ':')) s = s.substr(1);
      prefixed = true;
      break;
    }
  }
  return s;
}

}  // namespace

StageMeaning parse_stage(const std::string& text, bool bare_number_is_stage) {
  bool prefixed = false;
  const std::string s = simplify(text, prefixed);
  const auto& names = stage_range_names();
  if (s.rfind("range:", 0) == 0) {
    const int n = to_number(s.substr(6));
    if (n < 1 || n > 6)
      throw Error("stage '" + text + "': BDGP range numbers are range:1 .. range:6 (1-3 .. 13-16)");
    const std::string& r = names[static_cast<size_t>(n - 1)];
    return {r, "BDGP range number " + std::to_string(n) + " = stages " + r};
  }
  const auto dash = s.find('-');
  if (dash == std::string::npos) {
    if (to_number(s) >= 0 && !bare_number_is_stage && !prefixed)
      throw Error("stage range '" + text +
                  "' is a bare number, which once meant BDGP's range number: write the stages "
                  "(4-6, or 9-10 for BDGP's range number 4), stage N for embryonic stage N, or "
                  "range:N for BDGP's range number N");
    if (to_number(s) < 0) throw Error("unknown stage '" + text + "' (" + kGrammar + ")");
    const int n = stage_number(s, text);
    const std::string& r = names[static_cast<size_t>(range_of_stage(n))];
    return {r, "stage " + std::to_string(n) + " -> BDGP range " + r +
                   (n == kLastStage ? " (BDGP has no later range)" : "")};
  }
  const int a = stage_number(s.substr(0, dash), text), b = stage_number(s.substr(dash + 1), text);
  if (a > b) throw Error("stage range '" + text + "' runs backwards (" + kGrammar + ")");
  const int ra = range_of_stage(a), rb = range_of_stage(b);
  if (ra != rb)
    throw Error("stages " + std::to_string(a) + "-" + std::to_string(b) + " ('" + text +
                "') span two BDGP ranges (" + names[static_cast<size_t>(ra)] + " and " +
                names[static_cast<size_t>(rb)] +
                "): images of different ranges need different "
                "models; give them separately");
  const std::string& r = names[static_cast<size_t>(ra)];
  const std::string given = std::to_string(a) + "-" + std::to_string(b);
  return {r, given == r ? "stages " + r : "stages " + given + " -> BDGP range " + r};
}

std::string normalise_stage_range(const std::string& text, bool bare_number_is_stage) {
  return parse_stage(text, bare_number_is_stage).stage_range;
}

std::string normalise_stage_range(const std::string& text) {
  return parse_stage(text).stage_range;
}

std::string problem_stage_range(const std::string& text) {
  return text == kPooledStageRange ? text : normalise_stage_range(text);
}

std::vector<int> Dataset::indices_of_stage(const std::string& stage_range) const {
  const std::string s = problem_stage_range(stage_range);
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
