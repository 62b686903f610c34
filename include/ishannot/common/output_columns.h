#pragma once
// The one table of what every column of every output file means (and its unit): the writers of
// evaluate's, annotate's and report's outputs take their header lines from it, and each output
// folder gets it as columns.tsv (file, column, meaning, unit; a row with an empty column
// describes the file itself). The same word means the same thing in every file:
//   true_label  the truth (1 = the image / group carries the term), from the data's annotation
//   predicted   the ensemble's majority vote (0/1); `label` and `vote` are gone
//   (docs/EVALUATION.md) score       the ensemble's mean member probability (raw: not calibrated)
//   probability the calibrated probability (eval/calibration.h); call: yes / no / uncertain
// Columns (and files) that only an option adds after the writers are done — `term_id` and
// terms.tsv with --ontology, `propagated`/`implied_by` with annotate --propagate (the ontology
// module rewrites the finished files) — are documented here too, with `only_with` naming the
// option: columns.tsv lists them as "only with OPTION: ...", and header lines leave them out.
#include <string>
#include <vector>

namespace ishannot {

struct ColumnDoc {
  std::string file, column, meaning, unit;
  std::string only_with = {};  ///< the option that adds the column or file; empty: always written
};

enum class OutputKind { kEvaluate, kAnnotate, kReport };

/// Every documented file and column of an output folder, files in the order they are written.
const std::vector<ColumnDoc>& output_columns(OutputKind kind);

/// The header line ("a\tb\t...\n") of `file` from the table; Error when the table lacks the file.
std::string tsv_header(OutputKind kind, const std::string& file);
/// The column names of `file`, in order: the columns its writer writes (no `only_with` column).
std::vector<std::string> column_names(OutputKind kind, const std::string& file);

/// Writes DIR/columns.tsv (atomically): the rows of `files` (all the kind's files when empty) and
/// of every file that only an option writes (terms.tsv), `only_with` rows marked as such.
void write_columns_tsv(const std::string& dir, OutputKind kind,
                       const std::vector<std::string>& files = {});

}  // namespace ishannot
