// TSV tables read by column name (detail/tsv.h).
#include <charconv>
#include <cmath>
#include <sstream>

#include "detail/tsv.h"
#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"

namespace ishannot::detail {

const std::string TsvTable::empty_;

namespace {

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> cells;
  size_t start = 0;
  for (size_t tab; (tab = line.find('\t', start)) != std::string::npos; start = tab + 1)
    cells.push_back(line.substr(start, tab - start));
  cells.push_back(line.substr(start));
  return cells;
}

}  // namespace

int TsvTable::column(const std::string& name) const {
  for (size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return static_cast<int>(i);
  return -1;
}

int TsvTable::require(const std::string& name) const {
  const int index = column(name);
  if (index >= 0) return index;
  std::string columns;
  for (const auto& h : header) columns += (columns.empty() ? "" : ", ") + h;
  throw file_error(path, "no column '" + name + "' (its columns: " + columns + ")");
}

double TsvTable::number(size_t row, int column) const {
  const std::string& cell = rows.at(row).at(column);
  if (cell == "inf") return INFINITY;
  if (cell == "-inf") return -INFINITY;
  if (cell == "nan") return NAN;
  // strtod-free parsing: locale-independent, like format_exact writes.
  double value = 0;
  const auto [end, error] = std::from_chars(cell.data(), cell.data() + cell.size(), value);
  if (cell.empty() || error != std::errc() || end != cell.data() + cell.size())
    throw file_error(path + ":" + std::to_string(lines.at(row)),
                     "column '" + header.at(column) + "': '" + cell + "' is not a number");
  return value;
}

int TsvTable::integer(size_t row, int column) const {
  const std::string& cell = rows.at(row).at(column);
  int value = 0;
  const auto [end, error] = std::from_chars(cell.data(), cell.data() + cell.size(), value);
  if (cell.empty() || error != std::errc() || end != cell.data() + cell.size())
    throw file_error(path + ":" + std::to_string(lines.at(row)),
                     "column '" + header.at(column) + "': '" + cell + "' is not an integer");
  return value;
}

const std::string& TsvTable::text(size_t row, int column, const std::string& fallback) const {
  return column < 0 ? fallback : rows.at(row).at(column);
}

TsvTable read_tsv_table(const std::string& path) {
  TsvTable table;
  table.path = path;
  std::istringstream in(read_text_file(path));
  int line_number = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    auto cells = split_tabs(line);
    if (table.header.empty()) {
      table.header = std::move(cells);
      continue;
    }
    if (cells.size() != table.header.size())
      throw file_error(path + ":" + std::to_string(line_number),
                       std::to_string(cells.size()) + " cells, the header has " +
                           std::to_string(table.header.size()));
    table.rows.push_back(std::move(cells));
    table.lines.push_back(line_number);
  }
  if (table.header.empty()) throw file_error(path, "empty file (no header line)");
  return table;
}

}  // namespace ishannot::detail
