// Our manifest CSV: `image,gene,stage_range,terms[,view,fbgn,...]`, one row per image, terms
// ';'-joined (empty = no CV term), image paths relative to the manifest's folder.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "data/data_util.h"
#include "detail/csv.h"
#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/data/dataset.h"
#include "ishannot/data/stage_range.h"

namespace ishannot {
namespace fs = std::filesystem;

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<std::string> parse_terms(const std::string& text) {
  std::set<std::string> terms;
  for (const auto& piece : detail::split(text, ';')) {
    const std::string t = detail::trim(piece);
    if (!t.empty()) terms.insert(t);
  }
  return {terms.begin(), terms.end()};
}

}  // namespace

namespace detail {
std::string normalise_view(const std::string& text, const std::string& where) {
  const std::string v = lower(detail::trim(text));
  if (v.empty() || v == "lateral" || v == "dorsal" || v == "ventral") return v;
  throw Error(where + ": unknown view '" + text + "' (expected lateral, dorsal, ventral or empty)");
}
}  // namespace detail

Dataset read_manifest(const std::string& csv_path, bool check_files) {
  const auto rows = detail::parse_csv(read_text_file(csv_path), csv_path);
  if (rows.empty()) throw file_error(csv_path, "empty file (expected a header line)");
  std::map<std::string, int> col;
  const auto& header = rows[0].fields;
  for (size_t c = 0; c < header.size(); ++c) {
    const std::string name = lower(detail::trim(header[c]));
    auto [it, fresh] = col.emplace(name, int(c));
    if (!fresh && !name.empty())
      throw file_error(csv_path, "the header names the column '" + name + "' twice (columns " +
                                     std::to_string(it->second + 1) + " and " +
                                     std::to_string(c + 1) + ")");
  }
  for (const char* needed : {"image", "gene", "stage_range", "terms"}) {
    if (!col.count(needed))
      throw file_error(csv_path, std::string("header lacks the column '") + needed +
                                     "' (expected image,gene,stage_range,terms[,view,...])");
  }
  const int view_col = col.count("view") ? col["view"] : -1;
  const fs::path base = fs::path(csv_path).parent_path();

  Dataset ds;
  ds.source = csv_path;
  std::map<std::string, int> first_line;  // id -> line
  int missing = 0;
  std::string first_missing;
  for (size_t r = 1; r < rows.size(); ++r) {
    const auto& row = rows[r];
    const std::string where = csv_path + ":" + std::to_string(row.line);
    if (row.fields.size() != header.size())
      throw Error(where + ": " + std::to_string(row.fields.size()) + " fields, the header has " +
                  std::to_string(header.size()));
    ImageRecord rec;
    const std::string image = detail::trim(row.fields[col["image"]]);
    rec.gene = detail::trim(row.fields[col["gene"]]);
    if (image.empty()) throw Error(where + ": empty image path");
    if (rec.gene.empty()) throw Error(where + ": empty gene for image '" + image + "'");
    try {
      rec.stage_range = normalise_stage_range(row.fields[col["stage_range"]], false);
    } catch (const Error& e) {
      throw Error(where + ": " + e.what());
    }
    rec.terms = parse_terms(row.fields[col["terms"]]);
    if (view_col >= 0) rec.view = detail::normalise_view(row.fields[view_col], where);
    // Relative to the manifest's folder; bdgp-mini style manifests name bare files that live in
    // an images/ subfolder next to the manifest, so that is tried second.
    // (A name that is there counts even when it is a broken or looping link: it is reported
    // for what it is below, not as missing.)
    std::error_code ec;
    auto there = [&](const fs::path& q) { return fs::exists(fs::symlink_status(q, ec)); };
    fs::path p = fs::path(image).is_absolute() ? fs::path(image) : base / image;
    if (!fs::path(image).is_absolute() && !there(p) && there(base / "images" / image))
      p = base / "images" / image;
    rec.path = p.lexically_normal().string();
    rec.id = fs::path(image).stem().string();
    auto [it, fresh] = first_line.emplace(rec.id, row.line);
    if (!fresh)
      throw Error(where + ": duplicate image id '" + rec.id + "' (first listed at line " +
                  std::to_string(it->second) + ")");
    if (check_files && !fs::is_regular_file(rec.path, ec)) {
      const std::string why = describe_unreadable(rec.path);
      if (why != "no such file") throw Error(where + ": " + rec.path + ": " + why);
      if (missing++ == 0) first_missing = where + ": " + rec.path;
    }
    ds.images.push_back(std::move(rec));
  }
  if (missing > 0)
    throw file_error(csv_path, std::to_string(missing) + " listed image(s) do not exist, first " +
                                   first_missing);
  if (ds.images.empty()) throw file_error(csv_path, "no image rows after the header");
  return ds;
}

void write_manifest(const Dataset& dataset, const std::string& csv_path) {
  const fs::path base = fs::absolute(fs::path(csv_path)).parent_path();
  std::ostringstream out;
  out << "image,gene,fbgn,stage_range,terms,view\n";
  for (const auto& im : dataset.images) {
    if (im.path.empty())
      throw file_error(csv_path, "cannot write a manifest for '" + im.id +
                                     "': the dataset has no image file for it (metadata-only)");
    const std::string rel = fs::absolute(im.path).lexically_relative(base).generic_string();
    std::string terms;
    for (const auto& t : im.terms) terms += (terms.empty() ? "" : ";") + t;
    out << detail::csv_quote(rel) << ',' << detail::csv_quote(im.gene) << ",," << im.stage_range
        << ',' << detail::csv_quote(terms) << ',' << im.view << '\n';
  }
  write_text_atomically(csv_path, out.str());
}

}  // namespace ishannot
