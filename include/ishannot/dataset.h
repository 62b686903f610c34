#pragma once
// Dataset: ISH images with their group-level annotation. BDGP annotates a *group* (one gene at one
// stage range); every image of the group carries the group's CV terms. An image with no term is a
// valid negative for every term ("no CV term"), not missing data.
//
// Readers (src/data/): our manifest CSV, BDGP tables, a plain folder of images. They validate
// and either throw ishannot::Error (one line naming the file, row and problem) or skip with a
// reported reason (counted in Dataset::skipped) — nothing is dropped silently.
#include <map>
#include <string>
#include <vector>

#include "ishannot/progress.h"

namespace ishannot {

/// One image and the annotation of its group.
struct ImageRecord {
  std::string id;           ///< unique id (manifest: file stem, e.g. "insitu18837")
  std::string path;         ///< resolved path to the image file ("" for metadata-only datasets)
  std::string gene;         ///< gene symbol; the unit of every train/test split
  std::string stage_range;  ///< normalised: "1-3", "4-6", "7-8", "9-10", "11-12", "13-16"
  std::string view;         ///< "lateral", "dorsal", "ventral" or "" when unknown
  std::vector<std::string> terms;  ///< CV terms of the group, sorted, unique
};

/// A reason some rows were not taken, with how many.
struct SkipCount {
  std::string reason;
  int count = 0;
};

/// Images with annotation, in file order.
struct Dataset {
  std::string source;  ///< where it was read from (for messages and provenance)
  std::vector<ImageRecord> images;
  std::vector<SkipCount> skipped;  ///< rows not taken and why (reported by the CLI)

  /// Indices of the images of one (normalised) stage range.
  std::vector<int> indices_of_stage(const std::string& stage_range) const;
  /// Normalised stage ranges present, in biological order.
  std::vector<std::string> stage_ranges() const;
};

/// Normalises a stage-range name: "13-17" -> "13-16", BDGP stage numbers "1".."6" ->
/// "1-3".."13-16", "stage 4-6" -> "4-6". Throws Error for anything else.
std::string normalise_stage_range(const std::string& name);

/// Reads our manifest CSV (header `image,gene,stage_range,terms[,view,...]`, terms ';'-joined,
/// image paths relative to the manifest's folder). Checks that every image exists unless
/// `check_files` is false.
Dataset read_manifest(const std::string& csv_path, bool check_files = true);

/// Reads every image file (png, jpg, jpeg, tif, tiff, bmp) in a folder, sorted by name; no
/// annotation (prediction input). id = file stem.
Dataset read_image_folder(const std::string& folder);

/// Reads `path` as a manifest CSV, a folder of images, or a BDGP-table folder, by what it is.
Dataset read_dataset(const std::string& path);

}  // namespace ishannot
