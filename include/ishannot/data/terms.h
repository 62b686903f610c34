#pragma once
// Term selection: the paper's per-stage-range problem. For one stage range, take the images
// (optionally of one view), pick the k most frequent CV terms by number of images (ties broken by
// name), optionally excluding terms (e.g. non-spatial ones), and build the binary label matrix.
#include <cstdint>
#include <string>
#include <vector>

#include "ishannot/data/dataset.h"

namespace ishannot {

/// Non-spatial BDGP terms a user may exclude (not excluded by default: BDGP counts them).
const std::vector<std::string>& non_spatial_terms();

struct TermSelectionParams {
  int top_k = 10;                    ///< terms per stage range (paper: 10)
  std::vector<std::string> exclude;  ///< terms never selected
  std::string view = "lateral";      ///< keep only this view; "" = all views. Images whose view
                                     ///< is unknown ("") are kept (reported by the reader).
  /// "" when valid, else what is wrong.
  std::string check() const;
};

/// One stage range's multi-label problem.
struct StageProblem {
  std::string stage_range;
  std::vector<int> image_indices;  ///< rows -> indices into Dataset::images
  std::vector<std::string> terms;  ///< selected terms, most frequent first
  std::vector<int> positives;      ///< per term: images carrying it
  std::vector<uint8_t> labels;     ///< rows x terms, row-major, 0/1
  int rows() const { return static_cast<int>(image_indices.size()); }
  uint8_t label(int row, int term) const {
    return labels[static_cast<size_t>(row) * terms.size() + term];
  }
};

/// Builds the problem of one stage range. Throws Error when the stage range has no image.
StageProblem select_terms(const Dataset& dataset, const std::string& stage_range,
                          const TermSelectionParams& params);

}  // namespace ishannot
