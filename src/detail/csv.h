#pragma once
// Internal: a small RFC 4180 CSV reader/writer (quoted fields with commas, newlines and doubled
// quotes; CRLF or LF; a UTF-8 byte-order mark is skipped). Bytes are passed through unchanged, so
// UTF-8 names survive.
#include <string>
#include <vector>

namespace ishannot::detail {

/// One parsed record and the 1-based line where it starts (for messages).
struct CsvRow {
  int line = 0;
  std::vector<std::string> fields;
};

/// Parses a whole CSV text. Throws Error("PATH:LINE: ...") for an unterminated quoted field or
/// text after a closing quote. Blank lines are skipped.
std::vector<CsvRow> parse_csv(const std::string& text, const std::string& path);

/// Quotes a field when it contains a comma, quote, CR or LF.
std::string csv_quote(const std::string& field);

/// Strips ASCII white space at both ends.
std::string trim(const std::string& s);

/// Splits on one character; empty pieces are kept.
std::vector<std::string> split(const std::string& s, char sep);

}  // namespace ishannot::detail
