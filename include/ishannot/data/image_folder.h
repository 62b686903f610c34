#pragma once
// Plain image folders (prediction input) and where each image's stage range comes from.
//
// A folder given as --data (read_image_folder, dataset.h) may be laid out as
//   FOLDER/*.png                      images; gene and stage range unknown
//   FOLDER/<stage>/*.png              stage range from the folder name (parse_stage: 4-6, 13-16,
//                                     stage14, stage_9-10; a bare number such as 4 is refused:
//                                     it once meant BDGP's range number)
//   FOLDER/<gene>/*.png               gene from the folder name (any name that is not a stage)
//   FOLDER/<gene>/<stage>/*.png       both (the layout of insitu-tools' downloads)
// Deeper folders are not searched (counted in Dataset::skipped). Image ids are file stems and
// must be unique across the folders.
#include <cstdint>
#include <string>
#include <vector>

#include "ishannot/data/dataset.h"
#include "ishannot/data/stage_range.h"

namespace ishannot {

/// Where a dataset read by read_dataset(path) takes its stage ranges from: "manifest" (a CSV,
/// or a folder holding images.csv), "BDGP tables", or "folder" (a plain image folder).
std::string stage_origin_of(const std::string& path);

/// What the user gave for images whose data name no stage range or gene (annotate's --stage and
/// --gene).
struct StageInputs {
  std::string stage;  ///< --stage text, parsed by parse_stage ("" = none)
  std::string gene;   ///< --gene ("" = none)
};

/// How many images got which stage range, and from where.
struct StageAssignment {
  struct Count {
    std::string stage_range;  ///< "" = none
    std::string origin;       ///< "manifest", "BDGP tables", "folder", "--stage"
    int64_t images = 0;
  };
  std::vector<Count> counts;          ///< by stage range (biological order), then origin
  std::string stage_explanation;      ///< how --stage was read ("stage 14 -> BDGP range 13-16")
  std::vector<std::string> warnings;  ///< one --stage for a whole folder, unused --stage/--gene
  int64_t genes_from_option = 0;      ///< images whose gene is --gene
  int64_t without_gene = 0;           ///< images with no gene (their groups have gene "")
};

/// Fills in the stage range of every image without one from `inputs.stage` and the gene of
/// every image without one from `inputs.gene`, and says what came from where. `origin` is
/// stage_origin_of(the data path). Throws Error for a --stage parse_stage refuses.
StageAssignment assign_stages(Dataset& dataset, const std::string& origin,
                              const StageInputs& inputs);

/// One line per count: "  13-16   120 images  (folder)".
std::string stage_assignment_text(const StageAssignment& assignment);

/// A readable description of a dataset that may carry no terms (an image folder): images per
/// gene and stage range and where they came from, and what annotate will need (--stage, --gene).
std::string describe_images(const Dataset& dataset, const std::string& origin);

}  // namespace ishannot
