#pragma once
// Which images may be on both sides of a split. The default, the paper's and ishannot's
// (kGeneGrouped): per stage range, the outer folds split the genes, so a test gene was never seen
// in training — what a biologist annotating a new gene meets.
//
// kGroupsShuffled, the comparison protocol of the later literature (FlyIT, AnnoFly, HAMIL split
// gene x stage groups at random and pool the stage ranges): the images of every evaluated stage
// range are pooled into one stage range named kPooledStageRange, each image's gene becomes its
// group "GENE@STAGE" (so the folds split groups, and one gene's other stage ranges may be in
// training when one of them is tested), and the top-k terms are counted over all stage ranges.
// Looser than the default: numbers on it are higher and say less about new genes; it is for
// putting ishannot next to published figures, never the default.
#include <string>
#include <vector>

#include "ishannot/data/dataset.h"
#include "ishannot/data/stage_range.h"

namespace ishannot {

enum class EvaluationProtocol { kGeneGrouped, kGroupsShuffled };
/// "gene-grouped" | "groups-shuffled"; Error otherwise.
EvaluationProtocol parse_evaluation_protocol(const std::string& name);
std::string evaluation_protocol_name(EvaluationProtocol protocol);

/// The dataset kGroupsShuffled evaluates: the images of `stage_ranges` (empty: every stage range
/// of `dataset` but 1-3) with stage_range = kPooledStageRange and gene = "GENE@STAGE". Throws
/// Error naming the dataset when a requested stage range has no image.
Dataset groups_shuffled_dataset(const Dataset& dataset,
                                const std::vector<std::string>& stage_ranges);

}  // namespace ishannot
