#pragma once
// Internal: tab-separated files with a header line, read by column name (never by position, so
// that a format may gain columns) and row by row (predictions.tsv and roc.tsv of a BDGP-size run
// hold millions of rows: they are never held as text). Used by the report to read evaluate and
// annotate outputs.
#include <fstream>
#include <string>
#include <vector>

namespace ishannot::detail {

/// The one TSV field sanitiser of every TSV we write: a tab, newline or carriage return inside a
/// value (an image file named with a tab, a term with a newline) becomes a space, so that every
/// row keeps its columns and readers (report, pandas) accept the file.
inline std::string tsv_field(const std::string& value) {
  std::string out = value;
  for (char& c : out)
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  return out;
}

/// Reads a TSV file one row at a time. A trailing '\r' is dropped; blank lines are skipped. Every
/// row must have as many cells as the header (Error naming the file and line otherwise).
class TsvReader {
 public:
  /// Opens `path` and reads its header. Error naming the file when it is missing, unreadable or
  /// empty.
  explicit TsvReader(const std::string& path);

  const std::string& path() const { return path_; }
  const std::vector<std::string>& header() const { return header_; }
  /// Index of a column, or -1 when the header lacks it.
  int column(const std::string& name) const;
  /// Index of a column; Error "PATH: no column 'NAME' (its columns: ...)" when absent.
  int require(const std::string& name) const;

  /// Reads the next row; false at the end of the file.
  bool next();
  /// 1-based line of the current row (for messages).
  int line() const { return line_; }
  /// The current row's cells.
  const std::vector<std::string>& cells() const { return cells_; }
  /// A cell's text, or `fallback` when column is -1.
  const std::string& text(int column, const std::string& fallback = empty_) const;
  /// A cell as a number ("inf", "-inf" and "nan" accepted); Error "PATH:LINE: column 'NAME':
  /// 'TEXT' is not a number" otherwise.
  double number(int column) const;
  /// A cell as a finite number in [0, 1] (a score, a rate, an AUC); Error "PATH:LINE: column
  /// 'NAME': 'TEXT' is not a value in [0, 1]" otherwise (nan, inf, -7.5, 1e300...).
  double fraction(int column) const;
  /// A cell as a finite number; Error naming the file, line and column otherwise.
  double finite(int column) const;
  /// A cell as an integer; Error naming the file, line and column otherwise.
  int integer(int column) const;

 private:
  static const std::string empty_;
  std::string path_;
  std::ifstream in_;
  std::vector<std::string> header_;
  std::vector<std::string> cells_;
  std::string buffer_;
  int line_ = 0;
  bool read_line();  // the next non-blank line into buffer_, split into cells_
};

}  // namespace ishannot::detail
