// Dictionary file: versioned text, values via std::to_chars / std::from_chars (shortest
// round-trip form, locale-independent), so a saved dictionary reads back bit-exact.
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/sparse/dictionary.h"
#include "ishannot/version.h"

namespace ishannot {
namespace {

const char* const kMagic = "ishannot-sc-dictionary";

}  // namespace

void save_dictionary(const std::string& path, const Dictionary& dictionary) {
  if (dictionary.atoms.size() == 0) throw file_error(path, "refusing to write an empty dictionary");
  if (!dictionary.atoms.allFinite()) throw file_error(path, "dictionary has NaN or Inf values");
  nlohmann::json meta = nlohmann::json::object();
  for (const auto& [key, value] : dictionary.provenance) meta[key] = value;
  meta["tool_version"] = ISHANNOT_VERSION;
  std::string text = std::string(kMagic) + " " + std::to_string(kDictionaryFormatVersion) + "\n";
  text += meta.dump() + "\n";
  text += std::to_string(dictionary.atoms.rows()) + " " + std::to_string(dictionary.atoms.cols()) +
          "\n";
  char buf[64];
  for (Eigen::Index k = 0; k < dictionary.atoms.cols(); ++k) {
    for (Eigen::Index i = 0; i < dictionary.atoms.rows(); ++i) {
      auto res = std::to_chars(buf, buf + sizeof buf, dictionary.atoms(i, k));
      text.append(buf, res.ptr);
      text += i + 1 < dictionary.atoms.rows() ? ' ' : '\n';
    }
  }
  write_text_atomically(path, text);
}

Dictionary load_dictionary(const std::string& path) {
  const std::string text = read_text_file(path);
  std::istringstream in(text);
  std::string magic, line;
  int version = 0;
  if (!(in >> magic >> version) || magic != kMagic) {
    throw file_error(path,
                     "not an ishannot dictionary file (no '" + std::string(kMagic) + "' header)");
  }
  if (version != kDictionaryFormatVersion) {
    throw file_error(path, "dictionary format version " + std::to_string(version) +
                               " is not supported (expected " +
                               std::to_string(kDictionaryFormatVersion) + ")");
  }
  std::getline(in, line);
  std::getline(in, line);
  Dictionary out;
  try {
    const auto meta = nlohmann::json::parse(line);
    for (const auto& [key, value] : meta.items()) {
      out.provenance[key] = value.is_string() ? value.get<std::string>() : value.dump();
    }
  } catch (const nlohmann::json::exception&) {
    throw file_error(path, "line 2: provenance is not a JSON object");
  }
  long long rows = 0, cols = 0;
  if (!(in >> rows >> cols) || rows < 1 || cols < 1 || rows > 100000 || cols > 1000000) {
    throw file_error(path, "line 3: bad dictionary size (expected 'ROWS COLS')");
  }
  out.atoms.resize(rows, cols);
  // Parse the values with from_chars from the rest of the text.
  size_t pos = static_cast<size_t>(in.tellg());
  const char* p = text.data() + pos;
  const char* end = text.data() + text.size();
  for (long long k = 0; k < cols; ++k) {
    for (long long i = 0; i < rows; ++i) {
      while (p < end && (*p == ' ' || *p == '\n' || *p == '\r')) ++p;
      float v = 0;
      auto res = std::from_chars(p, end, v);
      if (res.ec != std::errc() || !std::isfinite(v)) {
        throw file_error(path, "atom " + std::to_string(k) + ", value " + std::to_string(i) +
                                   ": not a finite number (file truncated?)");
      }
      out.atoms(i, k) = v;
      p = res.ptr;
    }
  }
  while (p < end && (*p == ' ' || *p == '\n' || *p == '\r')) ++p;
  if (p != end) throw file_error(path, "unexpected data after the last atom");
  return out;
}

}  // namespace ishannot
