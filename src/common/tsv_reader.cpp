// TSV files read row by row, by column name (detail/tsv.h).
#include <charconv>
#include <cmath>
#include <filesystem>

#include "detail/tsv.h"
#include "ishannot/common/error.h"

namespace ishannot::detail {

const std::string TsvReader::empty_;

TsvReader::TsvReader(const std::string& path) : path_(path), in_(path, std::ios::binary) {
  if (!in_)
    throw file_error(path, std::filesystem::exists(path) ? "cannot be read" : "no such file");
  if (!read_line()) throw file_error(path, "empty file (no header line)");
  header_ = cells_;
}

bool TsvReader::read_line() {
  while (std::getline(in_, buffer_)) {
    ++line_;
    if (!buffer_.empty() && buffer_.back() == '\r') buffer_.pop_back();
    if (buffer_.empty()) continue;
    size_t count = 0, start = 0;
    for (;; ++count) {  // reuse the cells' storage from row to row
      const size_t tab = buffer_.find('\t', start);
      const size_t end = tab == std::string::npos ? buffer_.size() : tab;
      if (count < cells_.size())
        cells_[count].assign(buffer_, start, end - start);
      else
        cells_.emplace_back(buffer_, start, end - start);
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    cells_.resize(count + 1);
    return true;
  }
  return false;
}

bool TsvReader::next() {
  if (!read_line()) return false;
  if (cells_.size() != header_.size())
    throw file_error(
        path_ + ":" + std::to_string(line_),
        std::to_string(cells_.size()) + " cells, the header has " + std::to_string(header_.size()));
  return true;
}

int TsvReader::column(const std::string& name) const {
  for (size_t i = 0; i < header_.size(); ++i)
    if (header_[i] == name) return static_cast<int>(i);
  return -1;
}

int TsvReader::require(const std::string& name) const {
  const int index = column(name);
  if (index >= 0) return index;
  std::string columns;
  for (const auto& h : header_) columns += (columns.empty() ? "" : ", ") + h;
  throw file_error(path_, "no column '" + name + "' (its columns: " + columns + ")");
}

const std::string& TsvReader::text(int column, const std::string& fallback) const {
  return column < 0 ? fallback : cells_.at(column);
}

double TsvReader::number(int column) const {
  const std::string& cell = cells_.at(column);
  if (cell == "inf") return INFINITY;
  if (cell == "-inf") return -INFINITY;
  if (cell == "nan") return NAN;
  // Locale-independent, like format_exact writes.
  double value = 0;
  const auto [end, error] = std::from_chars(cell.data(), cell.data() + cell.size(), value);
  if (cell.empty() || error != std::errc() || end != cell.data() + cell.size())
    throw file_error(path_ + ":" + std::to_string(line_),
                     "column '" + header_.at(column) + "': '" + cell + "' is not a number");
  return value;
}

double TsvReader::finite(int column) const {
  const double value = number(column);
  if (!std::isfinite(value))
    throw file_error(
        path_ + ":" + std::to_string(line_),
        "column '" + header_.at(column) + "': '" + cells_.at(column) + "' is not a finite number");
  return value;
}

double TsvReader::fraction(int column) const {
  const double value = number(column);
  if (!(value >= 0 && value <= 1))
    throw file_error(path_ + ":" + std::to_string(line_), "column '" + header_.at(column) + "': '" +
                                                              cells_.at(column) +
                                                              "' is not a value in [0, 1]");
  return value;
}

int TsvReader::integer(int column) const {
  const std::string& cell = cells_.at(column);
  int value = 0;
  const auto [end, error] = std::from_chars(cell.data(), cell.data() + cell.size(), value);
  if (cell.empty() || error != std::errc() || end != cell.data() + cell.size())
    throw file_error(path_ + ":" + std::to_string(line_),
                     "column '" + header_.at(column) + "': '" + cell + "' is not an integer");
  return value;
}

}  // namespace ishannot::detail
