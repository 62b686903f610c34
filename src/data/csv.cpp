#include "detail/csv.h"

#include "ishannot/common/error.h"

namespace ishannot::detail {

std::vector<CsvRow> parse_csv(const std::string& text, const std::string& path) {
  std::vector<CsvRow> rows;
  size_t i = 0;
  const size_t n = text.size();
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) i = 3;  // UTF-8 byte-order mark
  int line = 1;
  while (i < n) {
    CsvRow row;
    row.line = line;
    std::string field;
    bool row_done = false;
    bool any = false;  // anything on this record (to skip blank lines)
    while (!row_done) {
      if (i < n && text[i] == '"') {
        any = true;
        ++i;
        const int quote_line = line;
        for (;;) {
          if (i >= n)
            throw Error(path + ":" + std::to_string(quote_line) +
                        ": quoted field is not terminated");
          const char c = text[i++];
          if (c == '"') {
            if (i < n && text[i] == '"') {
              field += '"';
              ++i;
            } else {
              break;
            }
          } else {
            if (c == '\n') ++line;
            field += c;
          }
        }
        if (i < n && text[i] != ',' && text[i] != '\n' && text[i] != '\r')
          throw Error(path + ":" + std::to_string(line) + ": text after a closing quote");
      } else {
        while (i < n && text[i] != ',' && text[i] != '\n' && text[i] != '\r') field += text[i++];
        if (!field.empty()) any = true;
      }
      if (i >= n) {
        row_done = true;
      } else if (text[i] == ',') {
        any = true;
        ++i;
        row.fields.push_back(std::move(field));
        field.clear();
        continue;
      } else {  // end of line: \n, \r\n or a lone \r
        if (text[i] == '\r') ++i;
        if (i < n && text[i] == '\n') ++i;
        ++line;
        row_done = true;
      }
    }
    row.fields.push_back(std::move(field));
    if (any) rows.push_back(std::move(row));
  }
  return rows;
}

std::string csv_quote(const std::string& field) {
  if (field.find_first_of(",\"\r\n") == std::string::npos) return field;
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string trim(const std::string& s) {
  const char* ws = " \t\r\n\f\v";
  const size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t p = s.find(sep, start);
    out.push_back(s.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (p == std::string::npos) break;
    start = p + 1;
  }
  return out;
}

}  // namespace ishannot::detail
