#pragma once
// Internal to annotate (src/annotate/): a bag bundle (`train --unit bag`: root attribute unit =
// "bag") applied to gene x stage-range groups instead of images, with each image's share of the
// group's linear score (group_evidence.tsv). annotate_images calls it for such bundles.
#include <string>
#include <vector>

#include "ishannot/annotate/annotate.h"

namespace ishannot::detail {

/// True when the bundle was trained on bags (its root attribute unit is "bag").
bool is_bag_bundle(const ModelBundle& bundle);

/// Annotates the groups of `images` (stage ranges filled in, each one the bundle has): per
/// (stage range, gene) its images' features, preprocessed as in training, pooled by the bundle's
/// bag_pool and scored by every member. Writes annotations.tsv (each image scored as a bag of one),
/// groups.tsv (an image run's columns; rule "bag:<pool>"), group_evidence.tsv, skipped.tsv,
/// run.json (each file atomically, at the end). Error naming `source_name` when an image has no
/// gene.
AnnotateSummary annotate_bags(const std::vector<ImageRecord>& images,
                              const std::string& source_name, const ModelBundle& bundle,
                              FeatureSource& source, const AnnotateParams& params,
                              const std::string& out_dir, const Reporter& reporter);

}  // namespace ishannot::detail
