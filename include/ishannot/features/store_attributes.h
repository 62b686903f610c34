#pragma once
// The root attributes of the stores we write: one documented set (docs/FEATURE_STORE.md), built
// here for `extract` and `baseline` alike, so that every store says what it holds and how it was
// made. Method-specific attributes (sc_* of the SC baseline, finetune_* of `extract --model`) are
// added next to these.
#include <cstdint>
#include <map>
#include <string>

#include "ishannot/common/provenance.h"
#include "ishannot/data/dataset.h"
#include "ishannot/features/feature_store.h"

namespace ishannot {

/// Names of the root attributes that more than one module reads or writes: one spelling each.
namespace store_attr {
/// Every gene whose images a fine-tuned network saw ('\n'-separated): evaluate refuses a store
/// whose network saw a test gene of the fold it is used for (the leakage guard).
inline constexpr const char* kFinetuneGenes = "finetune_genes";
/// The stage range a fine-tuned network was trained for ("" or absent: not fine-tuned).
inline constexpr const char* kFinetuneStageRange = "finetune_stage_range";
/// The genes whose images the SC dictionary was learnt from (the same guard for SC features).
inline constexpr const char* kScDictionaryGenes = "sc_dictionary_genes";
}  // namespace store_attr

/// What a store records about its making. Empty fields are written as "" (never left out), so the
/// set of attribute names is the same in every store.
struct StoreProvenance {
  Provenance run;               ///< tool_version, created_by (its command line) and seed
  std::string manifest_path;    ///< the dataset the rows come from (Dataset::source)
  std::string manifest_sha256;  ///< dataset_sha256() of that dataset
  std::string backbone;         ///< resnet50 | vgg16 | sparse-coding | ...
  std::string weights_path;     ///< network weights (fine-tuned model; SC: its dictionary)
  std::string weights_sha256;   ///< SHA-256 of that file
  std::string input_size;       ///< WxH the images were resized to, or "native"
  std::string resize_policy;    ///< squash | native
  std::string preprocessing;    ///< pixel preprocessing (caffe, torchvision, sift-grey...)
  std::string pooling;          ///< none | avg:4x4 | ... (SC: its poolings)
  std::string layers;           ///< the layers as requested
  std::string precision;        ///< the forward pass's arithmetic: fp32 | bf16 ("" for SC)
};

/// The documented root attributes (format_version and complete_rows are the writer's):
/// tool_version, created_by, manifest_path, manifest_sha256, backbone, weights_path,
/// weights_sha256, input_size, resize_policy, preprocessing, pooling, layers, precision, seed
/// (run.seed, 0 when unset). The run's inputs and extra keys are not store attributes.
std::map<std::string, std::string> store_attributes(const StoreProvenance& provenance);

/// A store's root attributes as another run's provenance records them: `prefix` + key, the
/// gene lists left out (kFinetuneGenes, kScDictionaryGenes: long, and in the store).
std::map<std::string, std::string> store_provenance_entries(
    const std::map<std::string, std::string>& attributes, const std::string& prefix);

/// Per-image metadata of a store from its dataset: /meta/gene and /meta/stage_range (written at
/// close, in /ids order), so that the store is usable without its manifest. Nothing for a dataset
/// without genes (a plain image folder).
void set_dataset_metadata(FeatureStoreWriter& writer, const Dataset& dataset);

/// SHA-256 naming a dataset's listing: of its manifest file when it was read from one (source is
/// a file), else of its image list ("id<TAB>path" lines, in order: an image or BDGP folder).
std::string dataset_sha256(const Dataset& dataset);

/// "" when a store with root `attributes` holds features of `dataset` (its manifest_sha256 equals
/// dataset_sha256(dataset)) made as `expected` says (each of its keys present and equal); else
/// the first difference, in one phrase ("its manifest_sha256 is ..., this dataset's is ...").
/// Before a store is reused instead of made again (train's OUT.features.h5).
std::string store_origin_difference(const std::map<std::string, std::string>& attributes,
                                    const Dataset& dataset,
                                    const std::map<std::string, std::string>& expected);

}  // namespace ishannot
