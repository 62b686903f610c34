#pragma once
// Internal: tab-separated tables with a header line, read by column name (never by position, so
// that a format may gain columns). Used by the report to read evaluate and annotate outputs.
#include <string>
#include <vector>

namespace ishannot::detail {

/// A TSV file: its header and rows of text cells. A trailing '\r' is dropped; blank lines are
/// skipped. Every row has exactly header.size() cells (read_tsv_table checks).
struct TsvTable {
  std::string path;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<int> lines;  ///< 1-based line of each row (for messages)

  /// Index of a column, or -1 when the header lacks it.
  int column(const std::string& name) const;
  /// Index of a column; Error "PATH: no column 'NAME' (its columns: ...)" when absent.
  int require(const std::string& name) const;
  /// Cell as a number ("inf", "-inf" and "nan" accepted); Error "PATH:LINE: column 'NAME': ..."
  /// when it is not one.
  double number(size_t row, int column) const;
  /// Cell as an integer; Error naming the file, line and column when it is not one.
  int integer(size_t row, int column) const;
  /// Cell text, or `fallback` when column is -1.
  const std::string& text(size_t row, int column, const std::string& fallback = empty_) const;

 private:
  static const std::string empty_;
};

/// Reads a TSV file. Error naming the file when it is missing, unreadable, has no header, or a
/// row whose number of cells differs from the header's (with its line).
TsvTable read_tsv_table(const std::string& path);

}  // namespace ishannot::detail
