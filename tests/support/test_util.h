#pragma once
// Small helpers shared by the tests: the message of an ishannot::Error, cutting a file short,
// writing a NaN into a stored feature matrix the way another tool could (our writer refuses),
// the AUC by counting pairs (the independent reference), and reading a TSV output by column name.
#include <hdf5.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <Eigen/Dense>
#include <random>

#include "ishannot/common/error.h"

namespace ishannot::test {

/// A d x k matrix of unit-norm columns with Gaussian directions (random dictionaries, atoms).
template <class Generator>
Eigen::MatrixXf random_unit_columns(int d, int k, Generator& rng) {
  std::normal_distribution<float> normal;
  Eigen::MatrixXf m(d, k);
  for (int j = 0; j < k; ++j) {
    for (int i = 0; i < d; ++i) m(i, j) = normal(rng);
    m.col(j).normalize();
  }
  return m;
}

/// what() of the ishannot::Error that `f` throws, or "" when it throws none.
inline std::string error_text(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

/// Keeps the first `keep` bytes of a file.
inline void truncate_file(const std::string& path, size_t keep) {
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(bytes.data(), static_cast<std::streamsize>(std::min(keep, bytes.size())));
}

/// Overwrites element (row, col) of the 2-D float dataset `dataset` of an HDF5 file with NaN.
inline void write_nan(const std::string& path, const std::string& dataset, hsize_t row,
                      hsize_t col) {
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  hid_t d = H5Dopen2(f, dataset.c_str(), H5P_DEFAULT);
  hid_t space = H5Dget_space(d);
  const hsize_t start[2] = {row, col}, count[2] = {1, 1};
  H5Sselect_hyperslab(space, H5S_SELECT_SET, start, nullptr, count, nullptr);
  hid_t mem = H5Screate_simple(2, count, nullptr);
  const float nan = std::nanf("");
  H5Dwrite(d, H5T_NATIVE_FLOAT, mem, space, H5P_DEFAULT, &nan);
  H5Sclose(mem);
  H5Sclose(space);
  H5Dclose(d);
  H5Fclose(f);
}

/// AUC by counting positive-negative pairs (ties count one half): the obvious, slow definition.
inline double naive_auc(const std::vector<double>& score, const std::vector<int>& label) {
  double wins = 0, pairs = 0;
  for (size_t i = 0; i < score.size(); ++i)
    for (size_t j = 0; j < score.size(); ++j)
      if (label[i] == 1 && label[j] == 0) {
        pairs += 1;
        wins += score[i] > score[j] ? 1.0 : score[i] == score[j] ? 0.5 : 0.0;
      }
  return pairs > 0 ? wins / pairs : 0.5;
}

/// Rows of a tab-separated file with a header line, as column name -> text.
inline std::vector<std::map<std::string, std::string>> read_tsv(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::map<std::string, std::string>> rows;
  std::vector<std::string> header;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, '\t');) cells.push_back(cell);
    if (header.empty()) {
      header = cells;
      continue;
    }
    std::map<std::string, std::string> row;
    for (size_t k = 0; k < header.size() && k < cells.size(); ++k) row[header[k]] = cells[k];
    rows.push_back(std::move(row));
  }
  return rows;
}

/// Rows of a simple CSV file (a header line; fields may be "quoted" with "" inside), as column
/// name -> text.
inline std::vector<std::map<std::string, std::string>> read_csv_rows(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::map<std::string, std::string>> rows;
  std::vector<std::string> header;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells(1);
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
      const char c = line[i];
      if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cells.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = !quoted;
      } else if (c == ',' && !quoted) {
        cells.emplace_back();
      } else if (c != '\r') {
        cells.back() += c;
      }
    }
    if (header.empty()) {
      header = cells;
      continue;
    }
    std::map<std::string, std::string> row;
    for (size_t k = 0; k < header.size() && k < cells.size(); ++k) row[header[k]] = cells[k];
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace ishannot::test
