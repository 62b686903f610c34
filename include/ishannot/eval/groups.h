#pragma once
// The group level: BDGP annotates a gene at a stage range (a group), not an image. Image-level
// predictions of one group and term are aggregated into one group score and label by a rule,
// the same in `annotate` (groups.tsv) and in `evaluate --level group|both` (group_* metrics):
//   mean   score = mean of the images' scores (mean member probabilities); label = score > 0.5
//   max    score = the largest image score; label = 1 when any image is labelled positive
//   votes  score = member votes for the term over all the group's images / (images x members);
//          label = score > 0.5 (a majority of all the group's member votes)
// The default (kMean) was chosen by measurement: docs/ANNOTATE.md, "Group level".
#include <cstdint>
#include <string>

namespace ishannot {

enum class GroupRule { kMean, kMax, kVotes };

/// "mean" | "max" | "votes"; Error otherwise.
GroupRule parse_group_rule(const std::string& name);
std::string group_rule_name(GroupRule rule);

/// Image predictions of one group and term, accumulated one image at a time (streaming: a
/// group's images need not be adjacent).
struct GroupAccumulator {
  double score_sum = 0;
  double score_max = 0;
  int64_t votes = 0;    ///< member votes over the images
  int64_t members = 0;  ///< members over the images (images x ensemble size)
  int images = 0;
  int positive_images = 0;  ///< images labelled positive

  /// Adds one image: its score, member votes, ensemble size and label.
  void add(double score, int image_votes, int image_members, int label);
  /// The group's score and label under a rule (images > 0).
  double score(GroupRule rule) const;
  int label(GroupRule rule) const;
};

}  // namespace ishannot
