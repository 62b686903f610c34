#pragma once
// Ontology ids in the TSV files that dataset, evaluate and annotate write, and the hierarchy in
// annotate's calls. One rule for every file: a `term_id` column right after `term`; the file is
// read row by row (by column name, so other columns, present or future, pass through unchanged)
// and replaced atomically.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ishannot/ontology/obo.h"
#include "ishannot/ontology/term_resolution.h"

namespace ishannot {

/// term -> ontology id of the resolved terms.
std::map<std::string, std::string> resolved_ids(const std::vector<TermResolution>& resolutions);

struct TermColumnsSummary {
  int64_t rows = 0;        ///< rows read
  int64_t with_id = 0;     ///< rows whose term has an id
  int64_t propagated = 0;  ///< rows added by propagation
};

/// Rewrites the TSV at `path` with `term_id` (ids[term], "" when it has none) after its `term`
/// column (an existing term_id column is refilled in place). Error naming the file when it has no
/// `term` column.
///
/// With `ontology` (propagation; annotations.tsv and groups.tsv): rows sharing every column
/// before `term` form a unit (an image, a gene x stage range), consecutive in the file. For each
/// unit, every ancestor (is_a and part_of, transitively) of a term whose row has `predicted` 1
/// (the majority vote; `label` in files that predate the rename, and in a bag bundle's files) and
/// that no row of the unit already names (by id: the model's own call on a term is kept as it
/// is) gets one row: a copy of the best-scoring (`score`) positive descendant's row, with term =
/// the ancestor's name and term_id its id. Two columns are added at the end: `propagated` (0 for
/// the file's rows, 1 for added rows) and `implied_by` (the descendant's term; "" for the file's
/// rows). Added rows follow their unit's rows, nearest ancestors first.
TermColumnsSummary add_term_columns(const std::string& path,
                                    const std::map<std::string, std::string>& ids,
                                    const Ontology* ontology = nullptr);

/// The TSVs ishannot writes found under `dir` (recursively, sorted: the files of
/// common/output_columns.h at their documented paths), terms.tsv and columns.tsv left out; a
/// user's own .tsv files are never rewritten.
std::vector<std::string> folder_tsv_files(const std::string& dir);

/// Distinct non-empty values of the `term` column of `files` (files without one are skipped).
std::vector<std::string> distinct_terms(const std::vector<std::string>& files);

/// add_term_columns on each of `files` that has a `term` column, with `ontology` (propagation)
/// for those whose path ends with one of `propagate_suffixes`. Returns the summed counts.
TermColumnsSummary add_term_columns(const std::vector<std::string>& files,
                                    const std::map<std::string, std::string>& ids,
                                    const Ontology* ontology,
                                    const std::vector<std::string>& propagate_suffixes);

/// The same `term_id` insertion (no propagation) on TSV text held in memory (a header line, then
/// rows); text without a `term` column is returned unchanged.
std::string add_term_column_text(const std::string& tsv,
                                 const std::map<std::string, std::string>& ids);

}  // namespace ishannot
