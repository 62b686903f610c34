// Group-level aggregation rules (groups.h).
#include "ishannot/eval/groups.h"

#include <algorithm>

#include "ishannot/common/assert.h"
#include "ishannot/common/enum_names.h"
#include "ishannot/common/error.h"

namespace ishannot {

constexpr EnumName<GroupRule> kGroupRuleNames[] = {
    {GroupRule::kMean, "mean"}, {GroupRule::kMax, "max"}, {GroupRule::kVotes, "votes"}};

GroupRule parse_group_rule(const std::string& name) {
  return parse_enum(kGroupRuleNames, name, "group rule");
}

std::string group_rule_name(GroupRule rule) {
  return enum_name(kGroupRuleNames, rule);
}

void GroupAccumulator::add(double score, int image_votes, int image_members, int label) {
  score_max = images == 0 ? score : std::max(score_max, score);
  score_sum += score;
  votes += image_votes;
  members += image_members;
  positive_images += label ? 1 : 0;
  ++images;
}

double GroupAccumulator::score(GroupRule rule) const {
  ISHANNOT_ASSERT(images > 0, "a group without images");
  switch (rule) {
    case GroupRule::kMean:
      return score_sum / images;
    case GroupRule::kMax:
      return score_max;
    case GroupRule::kVotes:
      return members > 0 ? static_cast<double>(votes) / static_cast<double>(members) : 0.0;
  }
  return 0;
}

int GroupAccumulator::label(GroupRule rule) const {
  if (rule == GroupRule::kMax) return positive_images > 0 ? 1 : 0;
  return score(rule) > 0.5 ? 1 : 0;
}

}  // namespace ishannot
