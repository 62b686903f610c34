// The comparison protocol's dataset (protocol.h).
#include "ishannot/eval/protocol.h"

#include <algorithm>

#include "detail/evaluation_stage.h"
#include "ishannot/common/enum_names.h"
#include "ishannot/common/error.h"
#include "ishannot/eval/evaluation.h"
#include "ishannot/features/store_attributes.h"

namespace ishannot {

constexpr EnumName<EvaluationProtocol> kProtocolNames[] = {
    {EvaluationProtocol::kGeneGrouped, "gene-grouped"},
    {EvaluationProtocol::kGroupsShuffled, "groups-shuffled"}};

EvaluationProtocol parse_evaluation_protocol(const std::string& name) {
  return parse_enum(kProtocolNames, name, "protocol");
}

std::string evaluation_protocol_name(EvaluationProtocol protocol) {
  return enum_name(kProtocolNames, protocol);
}

Dataset groups_shuffled_dataset(const Dataset& dataset,
                                const std::vector<std::string>& stage_ranges) {
  const std::vector<std::string> present = dataset.stage_ranges();
  for (const auto& s : stage_ranges)
    if (std::find(present.begin(), present.end(), s) == present.end())
      throw file_error(dataset.source, "no image of stage range " + s);
  Dataset out;
  out.source = dataset.source;
  for (const auto& image : dataset.images) {
    const bool wanted = stage_ranges.empty() ? image.stage_range != "1-3"
                                             : std::find(stage_ranges.begin(), stage_ranges.end(),
                                                         image.stage_range) != stage_ranges.end();
    if (!wanted) continue;
    ImageRecord pooled = image;
    pooled.gene = image.gene + "@" + image.stage_range;
    pooled.stage_range = kPooledStageRange;
    out.images.push_back(std::move(pooled));
  }
  return out;
}

// --protocol groups-shuffled: the pooled dataset, evaluated as one stage range.
EvaluationResult detail::run_groups_shuffled(const Dataset& dataset, const FoldStores& stores,
                                             const EvaluationParams& params,
                                             const Reporter& reporter) {
  const Dataset pooled = groups_shuffled_dataset(dataset, params.stage_ranges);
  for (int f = 0; f < params.folds; ++f) {
    const FeatureStoreReader& store = stores(kPooledStageRange, f);
    if (store.attributes().count(store_attr::kFinetuneGenes))
      throw file_error(store.path(),
                       "features of a fine-tuned net: the groups-shuffled protocol splits gene x "
                       "stage groups, not genes, so its training genes would be tested (use "
                       "TL features, or the gene-grouped protocol)");
  }
  EvaluationParams p = params;
  p.protocol = EvaluationProtocol::kGeneGrouped;
  p.stage_ranges = {kPooledStageRange};
  return run_evaluation(pooled, stores, p, reporter);
}

}  // namespace ishannot
