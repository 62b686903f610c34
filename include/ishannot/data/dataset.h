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

#include "ishannot/common/progress.h"

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

/// How many entries a source lists for one stage range and view before de-duplication. BDGP's
/// tables list some images twice (in the same group, or under two genes); Table-1 counts are
/// entries as listed, the Dataset keeps each image once.
struct ListedCount {
  std::string stage_range;
  std::string view;
  int count = 0;
};

/// Images with annotation, in file order.
struct Dataset {
  std::string source;  ///< where it was read from (for messages and provenance)
  std::vector<ImageRecord> images;
  std::vector<SkipCount> skipped;   ///< rows not taken and why (reported by the CLI)
  std::vector<ListedCount> listed;  ///< entries as the source lists them; empty = one per image

  /// Adds `n` to the skip count of `reason` (creating it).
  void add_skip(const std::string& reason, int n = 1);
  /// Entries listed for a stage range and view ("" = all views): from `listed` when filled,
  /// else the number of images.
  int listed_count(const std::string& stage_range, const std::string& view) const;

  /// Indices of the images of one (normalised) stage range.
  std::vector<int> indices_of_stage(const std::string& stage_range) const;
  /// Normalised stage ranges present, in biological order.
  std::vector<std::string> stage_ranges() const;
};

/// The six BDGP stage ranges in biological order: "1-3", "4-6", "7-8", "9-10", "11-12", "13-16".
const std::vector<std::string>& stage_range_names();

/// 1..6 for the stage ranges 1-3 .. 13-16 (their biological order: the `stage_order` column of
/// every TSV we write, so that pandas and R sort 4-6 before 11-12); 0 for anything else.
int stage_order(const std::string& stage_range);

/// The BDGP stage range of a stage as a user writes it: parse_stage(name).stage_range
/// (data/stage_range.h: "14" -> "13-16", "13-17" -> "13-16", "range:4" -> "9-10"; a bare
/// number is an embryonic stage, never BDGP's range number). Throws Error for anything else.
std::string normalise_stage_range(const std::string& name);

/// Reads our manifest CSV (header `image,gene,stage_range,terms[,view,...]`, terms ';'-joined,
/// image paths relative to the manifest's folder, or to its `images/` subfolder when not found
/// there, as in ../shared/data/bdgp-mini). Checks that every image exists unless `check_files` is
/// false. Throws Error (file:line) for a duplicate id, an unknown stage range or view, a row with
/// the wrong number of fields, missing images.
Dataset read_manifest(const std::string& csv_path, bool check_files = true);

/// Reads every image file (png, jpg, jpeg, jpe, tif, tiff, bmp) in a folder and in its <stage>/,
/// <gene>/ and <gene>/<stage>/ subfolders (the layout: data/image_folder.h), sorted by name; no
/// terms (prediction input). id = file stem.
Dataset read_image_folder(const std::string& folder);

/// Reads `path` as a manifest CSV, a folder of images, or a BDGP-table folder, by what it is:
/// a file -> manifest; a folder with standard_annotations.csv + standard_images.csv -> BDGP tables
/// (joined with its `images/` subfolder when there is one, else metadata-only, see bdgp.h); a
/// folder with images.csv -> that manifest; any other folder -> read_image_folder.
Dataset read_dataset(const std::string& path);

/// True for the image file extensions the readers take (case-insensitive).
bool is_image_file_name(const std::string& path);

/// Writes a manifest CSV (`image,gene,fbgn,stage_range,terms,view`) atomically; image paths are
/// written relative to the manifest's folder. Throws Error for a metadata-only dataset.
void write_manifest(const Dataset& dataset, const std::string& csv_path);

/// Decodes every image (read_image_bgr) and returns the dataset without the unreadable ones;
/// each unreadable image is reported through `reporter` (one line naming the file and the
/// problem) and counted in `skipped` ("unreadable image"). Any failure of one image's decoding
/// counts it as unreadable; the check always goes on.
Dataset drop_unreadable_images(const Dataset& dataset, const Reporter& reporter = {});

}  // namespace ishannot
