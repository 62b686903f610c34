#pragma once
// The SC baseline's run-level decisions, in the library so that every caller makes them alike:
// which dictionary a run codes with (a given file, an interrupted run's, or one learned from the
// images of the allowed genes) and the root attributes of the SC store (the documented set with
// the dictionary in the weights' place, the sc_* parameters, and the genes the dictionary saw —
// store_attr::kScDictionaryGenes, which evaluate's leakage guard reads).
#include <map>
#include <string>
#include <vector>

#include "ishannot/common/progress.h"
#include "ishannot/common/provenance.h"
#include "ishannot/data/dataset.h"
#include "ishannot/sparse/sc_baseline.h"

namespace ishannot {

/// Where a run's dictionary comes from.
struct ScDictionaryChoice {
  std::string load_path;  ///< a dictionary file to code with (no learning); "" = see below
  /// An interrupted run's dictionary: used when `resume` and the file exists, else the learned
  /// dictionary is saved here.
  std::string run_path;
  bool resume = false;
  /// Strict mode: learn only from these genes' images (the training genes of one outer fold);
  /// empty = every image to code (unsupervised, transductive; docs/BASELINE.md).
  std::vector<std::string> genes;
  std::string genes_scope;  ///< how `genes` were chosen, for provenance (with `genes` only)
};

/// The dictionary a run codes with and how it was obtained.
struct ScDictionaryResult {
  Dictionary dictionary;
  std::string path;   ///< its file (loaded, resumed, or the learned one saved at run_path)
  std::string scope;  ///< "loaded from P", the resumed run's scope, or what it was learned from
};

/// Throws Error naming `path` when `dictionary` was learned with other SIFT parameters than
/// `params` (a dictionary is only meaningful for the descriptors it was learned on).
void check_dictionary_matches(const std::string& path, const Dictionary& dictionary,
                              const ScBaselineParams& params);

/// Loads, resumes or learns (from `images`, limited to choice.genes) the run's dictionary; a
/// learned one is saved atomically at choice.run_path, its scope in its provenance. Throws Error
/// when no image of the allowed genes is among `images`.
ScDictionaryResult sc_dictionary_for(const Dataset& images, const ScDictionaryChoice& choice,
                                     const ScBaselineParams& params, const Reporter& reporter = {});

/// The root attributes of an SC store of `images` coded by `encoder` with `dictionary`:
/// store_attributes() (backbone "sparse-coding", the dictionary as weights), sc_attributes(),
/// sc_dictionary_scope / _sha256, and the genes the dictionary was learned from when restricted.
std::map<std::string, std::string> sc_store_attributes(const Dataset& images,
                                                       const ScEncoder& encoder,
                                                       const ScDictionaryResult& dictionary,
                                                       const std::vector<std::string>& genes,
                                                       const Provenance& run);

}  // namespace ishannot
