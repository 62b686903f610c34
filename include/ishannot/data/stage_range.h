#pragma once
// Stages as biologists write them (embryonic stages 1-17, ranges of stages) and as BDGP groups
// them (the six stage ranges): the one parser every command, manifest and folder name goes
// through. dataset.h's normalise_stage_range(text) is parse_stage(text).stage_range.
#include <string>

namespace ishannot {

/// What a stage written by a user means: the BDGP stage range and how it was read.
struct StageMeaning {
  std::string stage_range;  ///< "1-3" .. "13-16"
  std::string explanation;  ///< e.g. "stage 14 -> BDGP range 13-16", for messages
};

/// The one stage parser (every command, option, manifest and folder name). Blanks and case are
/// ignored, and a leading "stage"/"stages" (then '_' or ':'): "Stage 14", "stages_4-6".
///   N (1..17)      embryonic stage N -> its BDGP range: 1-3, 4-6, 7-8, 9-10, 11-12, 13-16;
///                  17 -> 13-16 (BDGP has no later range; its 13-16 models are the closest)
///   A-B            stages A..B, which must lie in one BDGP range: "4-6", "14-15" and "13-17"
///                  -> 13-16; "4-8" is refused (spans 4-6 and 7-8)
///   range:N (1..6) BDGP's range number N, only when asked so: range:4 = 9-10
/// With `bare_number_is_stage` false (data: a manifest's stage_range column or a folder name,
/// where a bare 1..6 once meant BDGP's range number) a bare number is refused with that reason;
/// "stage 4" still means stage 4. Throws Error naming the text.
StageMeaning parse_stage(const std::string& text, bool bare_number_is_stage = true);

/// parse_stage(text, bare_number_is_stage).stage_range.
std::string normalise_stage_range(const std::string& text, bool bare_number_is_stage);

/// The stage range of a problem made by `evaluate --protocol groups-shuffled` (eval/protocol.h):
/// every stage range pooled. Never a user's input (parse_stage refuses it); only the problem
/// builders (select_terms, outer_folds, Dataset::indices_of_stage) take it, through
/// problem_stage_range.
inline const std::string kPooledStageRange = "all";

/// kPooledStageRange as is, anything else normalise_stage_range(text).
std::string problem_stage_range(const std::string& text);

}  // namespace ishannot
