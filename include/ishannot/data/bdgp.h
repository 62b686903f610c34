#pragma once
// BDGP's annotation tables (the format of ../shared/data/bdgp-meta, a 2017 export):
//   standard_annotations.csv  `gene,stage,annotation`  one row per group (gene x stage range),
//                              stage = BDGP number 1..6 (1-3 .. 13-16), annotation = a Python
//                              tuple of CV terms, e.g. "('maternal', \"Bolwig's organ\")";
//   standard_images.csv       `gene,stage,direction,image_url`  the images of a group and view,
//                              image_url = a Python tuple of `NNNNN_s.bmp` (NNNNN = BDGP image id).
// Each listed image becomes one ImageRecord with id "insituNNNNN" (BDGP's own file name, as in
// ../shared/data/bdgp-mini), view = direction, terms = its group's annotation.
//
// The tables list some images more than once: twice in the same group (kept once; every entry
// counted in Dataset::listed so Table-1 counts match the tables), or under a second gene or view
// (the first listing wins; the others are counted in Dataset::skipped).
#include <string>

#include "ishannot/data/dataset.h"

namespace ishannot {

struct BdgpReadParams {
  /// Folder with the image files, or "" for a metadata-only dataset (paths left empty). A listed
  /// image is found there as NNNNN_s.bmp, NNNNN.<ext> or insituNNNNN.<ext> (any image extension);
  /// listed images that are not there are skipped and counted.
  std::string image_folder;
  std::string check() const;
};

/// True when `folder` holds standard_annotations.csv and standard_images.csv.
bool is_bdgp_table_folder(const std::string& folder);

/// Reads the two tables of `folder`. Throws Error naming the file and line for malformed rows,
/// unknown stage numbers, or a group listed twice in standard_annotations.csv.
Dataset read_bdgp_tables(const std::string& folder, const BdgpReadParams& params = {});

/// Parses a Python tuple/list literal of strings: "('a', \"b's\")" -> {a, b's}; "()" -> {}.
/// Throws Error (prefixed with `where`) when the text is not such a literal.
std::vector<std::string> parse_python_string_tuple(const std::string& text,
                                                   const std::string& where);

}  // namespace ishannot
