#pragma once
// Synthetic BDGP-like ISH images: 320x128 RGB lateral views of a Drosophila embryo (anterior left,
// dorsal up, white background, pale translucent textured tissue) stained blue-purple where the
// "gene" is expressed. Each CV term has a spatial model in embryo coordinates that follows its
// anatomy and changes with stage (docs/DATA.md lists them). A group (gene x stage range) renders
// the union of its terms; every image of the group varies (position, rotation, scale, stain
// intensity, weak or missing patterns, blur, noise), as real group-level labels do.
//
// Groups come from a built-in vocabulary (the top-10 terms of each stage range with BDGP's lateral
// frequencies; works on a fresh clone) or, with `like`, from BDGP's tables: real term sets, real
// co-occurrences, real images per group. Output: DIR/images/<id>.png, DIR/images.csv (our manifest,
// view = lateral), DIR/synth.json (format version, parameters, provenance) and, with masks, where
// each term was painted (DIR/masks/, DIR/masks.csv). Deterministic for a seed, whatever the
// thread count.
#include <cstdint>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "ishannot/common/progress.h"

namespace ishannot {

struct SynthParams {
  int images = 1000;  ///< total images over all stage ranges (>= 1)
  std::vector<std::string> stages = {"4-6", "7-8", "9-10", "11-12", "13-16"};  ///< ranges made
  std::string like;  ///< BDGP-table folder to sample real groups from; "" = built-in vocabulary
  uint64_t seed = 1234;
  double missing_pattern = 0.08;  ///< chance one term's pattern is absent from one image
  double weak_pattern = 0.15;     ///< chance one term's pattern is weak in one image
  double clutter = 0.35;          ///< chance a group also shows expression outside its terms
  double noise = 4.0;             ///< pixel noise (std, 8-bit levels)
  int threads = 0;                ///< 0 = OpenMP default
  /// Also write where each term was painted: DIR/masks/<id>.<k>.png (k = the term's position in
  /// the image's sorted terms; 255 = pattern density >= 0.5 inside the embryo, all 0 when the
  /// image misses the pattern) and DIR/masks.csv (image,term,mask,painted).
  bool masks = false;
  std::string check() const;
};

/// One term of the built-in vocabulary and the share of a stage range's images carrying it.
struct VocabularyTerm {
  std::string stage_range;
  std::string term;
  double frequency = 0;
};

/// The built-in vocabulary: the 10 most frequent terms per stage range 4-6 .. 13-16 of BDGP's
/// lateral images (../shared/data/bdgp-meta, as listed), with their frequencies.
const std::vector<VocabularyTerm>& default_vocabulary();

/// One synthetic group before rendering.
struct SynthGroup {
  std::string gene;
  std::string stage_range;
  std::vector<std::string> terms;  ///< sorted, unique
  int images = 1;
};

/// The groups `generate_synthetic` renders (exposed for tests and docs).
std::vector<SynthGroup> plan_synthetic_groups(const SynthParams& params,
                                              const Reporter& reporter = {});

/// Renders one image (BGR, 320x128) of a group's terms. `variation` = 0 gives the canonical
/// embryo (centred, no clutter, full-strength patterns, no missing pattern): the contact sheet.
cv::Mat render_synthetic_image(const std::vector<std::string>& terms,
                               const std::string& stage_range, uint64_t seed,
                               double variation = 1.0, const SynthParams& params = {});

/// One-line description of the spatial model the generator uses for a term at a stage range.
std::string synthetic_term_model(const std::string& term, const std::string& stage_range);

/// Writes the dataset into `out_dir` (created; an existing images.csv there is replaced) and
/// returns the manifest path. Throws Error for bad parameters or unwritable files.
std::string generate_synthetic(const SynthParams& params, const std::string& out_dir,
                               const Reporter& reporter = {});

/// A PNG contact sheet: one row per stage range, one canonical image per built-in term, labelled.
void write_contact_sheet(const std::string& png_path, uint64_t seed = 1234);

}  // namespace ishannot
