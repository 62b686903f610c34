// Reader of BDGP's annotation tables (see include/ishannot/bdgp.h).
#include "ishannot/data/bdgp.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <set>
#include <unordered_map>

#include "data/data_util.h"
#include "detail/csv.h"
#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"

namespace ishannot {
namespace fs = std::filesystem;

std::string BdgpReadParams::check() const {
  if (!image_folder.empty() && !fs::is_directory(image_folder))
    return "image folder '" + image_folder + "' is not a folder";
  return "";
}

bool is_bdgp_table_folder(const std::string& folder) {
  return fs::is_regular_file(fs::path(folder) / "standard_annotations.csv") &&
         fs::is_regular_file(fs::path(folder) / "standard_images.csv");
}

std::vector<std::string> parse_python_string_tuple(const std::string& text,
                                                   const std::string& where) {
  const std::string s = detail::trim(text);
  auto bad = [&](const std::string& why) {
    return Error(where + ": not a Python tuple of strings (" + why + "): " + s.substr(0, 60));
  };
  if (s.size() < 2 ||
      !((s.front() == '(' && s.back() == ')') || (s.front() == '[' && s.back() == ']')))
    throw bad("no brackets");
  std::vector<std::string> out;
  size_t i = 1;
  const size_t end = s.size() - 1;
  auto skip_space = [&] {
    while (i < end && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  };
  for (;;) {
    skip_space();
    if (i >= end) break;
    const char q = s[i];
    if (q != '\'' && q != '"') throw bad("expected a quote");
    ++i;
    std::string item;
    while (i < end && s[i] != q) {
      if (s[i] == '\\' && i + 1 < end) ++i;  // \' \" \\ -> the character itself
      item += s[i++];
    }
    if (i >= end) throw bad("unterminated string");
    ++i;  // closing quote
    out.push_back(item);
    skip_space();
    if (i >= end) break;
    if (s[i] != ',') throw bad("expected a comma");
    ++i;
  }
  return out;
}

namespace {

struct Table {
  std::string path;
  std::vector<detail::CsvRow> rows;
  std::map<std::string, int> col;
};

Table read_table(const std::string& path, const std::vector<std::string>& needed) {
  Table t;
  t.path = path;
  t.rows = detail::parse_csv(read_text_file(path), path);
  if (t.rows.empty()) throw file_error(path, "empty file (expected a header line)");
  for (size_t c = 0; c < t.rows[0].fields.size(); ++c)
    t.col[detail::trim(t.rows[0].fields[c])] = int(c);
  for (const auto& n : needed)
    if (!t.col.count(n)) throw file_error(path, "header lacks the column '" + n + "'");
  for (size_t r = 1; r < t.rows.size(); ++r)
    if (t.rows[r].fields.size() != t.rows[0].fields.size())
      throw Error(path + ":" + std::to_string(t.rows[r].line) + ": " +
                  std::to_string(t.rows[r].fields.size()) + " fields, the header has " +
                  std::to_string(t.rows[0].fields.size()));
  return t;
}

std::string stage_of(const std::string& text, const std::string& where) {
  try {
    // BDGP's tables number their ranges 1..6: the one place where a bare number is a range.
    const std::string t = detail::trim(text);
    const bool number = !t.empty() && t.find_first_not_of("0123456789") == std::string::npos;
    return normalise_stage_range(number ? "range:" + t : t);
  } catch (const Error& e) {
    throw Error(where + ": " + e.what());
  }
}

// "12345_s.bmp" -> "12345"; throws otherwise.
std::string bdgp_number(const std::string& name, const std::string& where) {
  std::string stem = fs::path(name).stem().string();
  if (stem.size() > 2 && stem.compare(stem.size() - 2, 2, "_s") == 0) stem.resize(stem.size() - 2);
  if (stem.empty() ||
      !std::all_of(stem.begin(), stem.end(), [](char c) { return c >= '0' && c <= '9'; }))
    throw Error(where + ": image name '" + name + "' is not of the form NNNNN_s.bmp");
  return stem;
}

// BDGP number -> file, for the image files of a folder.
std::unordered_map<std::string, std::string> index_image_folder(const std::string& folder) {
  std::unordered_map<std::string, std::string> files;
  std::vector<fs::path> paths;
  for (const auto& e : fs::directory_iterator(folder))
    if (e.is_regular_file() && is_image_file_name(e.path().string())) paths.push_back(e.path());
  std::sort(paths.begin(), paths.end());
  for (const auto& p : paths) {
    std::string stem = p.stem().string();
    if (stem.rfind("insitu", 0) == 0) stem = stem.substr(6);
    if (stem.size() > 2 && stem.compare(stem.size() - 2, 2, "_s") == 0)
      stem.resize(stem.size() - 2);
    if (!stem.empty() &&
        std::all_of(stem.begin(), stem.end(), [](char c) { return c >= '0' && c <= '9'; }))
      files.emplace(stem, p.string());
  }
  return files;
}

}  // namespace

Dataset read_bdgp_tables(const std::string& folder, const BdgpReadParams& params) {
  if (auto problem = params.check(); !problem.empty()) throw Error(problem);
  if (!is_bdgp_table_folder(folder))
    throw file_error(folder,
                     "not a BDGP table folder (needs standard_annotations.csv and "
                     "standard_images.csv)");
  const Table ann = read_table((fs::path(folder) / "standard_annotations.csv").string(),
                               {"gene", "stage", "annotation"});
  const Table img = read_table((fs::path(folder) / "standard_images.csv").string(),
                               {"gene", "stage", "direction", "image_url"});

  // Group -> sorted unique terms.
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> terms_of;
  for (size_t r = 1; r < ann.rows.size(); ++r) {
    const auto& f = ann.rows[r].fields;
    const std::string where = ann.path + ":" + std::to_string(ann.rows[r].line);
    const std::string gene = detail::trim(f[ann.col.at("gene")]);
    if (gene.empty()) throw Error(where + ": empty gene");
    const std::string stage = stage_of(f[ann.col.at("stage")], where);
    auto list = parse_python_string_tuple(f[ann.col.at("annotation")], where);
    std::set<std::string> unique;
    for (auto& t : list)
      if (!detail::trim(t).empty()) unique.insert(detail::trim(t));
    if (!terms_of
             .emplace(std::make_pair(gene, stage),
                      std::vector<std::string>(unique.begin(), unique.end()))
             .second)
      throw Error(where + ": group " + gene + " at " + stage + " is annotated twice");
  }

  std::unordered_map<std::string, std::string> files;
  if (!params.image_folder.empty()) files = index_image_folder(params.image_folder);

  Dataset ds;
  ds.source = folder;
  struct Listing {
    std::string gene, stage, view;
  };
  std::unordered_map<std::string, Listing> first_listing;     // BDGP number -> where first listed
  std::map<std::pair<std::string, std::string>, int> listed;  // (stage, view) -> entries
  for (size_t r = 1; r < img.rows.size(); ++r) {
    const auto& f = img.rows[r].fields;
    const std::string where = img.path + ":" + std::to_string(img.rows[r].line);
    const std::string gene = detail::trim(f[img.col.at("gene")]);
    if (gene.empty()) throw Error(where + ": empty gene");
    const std::string stage = stage_of(f[img.col.at("stage")], where);
    const std::string view = detail::normalise_view(f[img.col.at("direction")], where);
    const auto names = parse_python_string_tuple(f[img.col.at("image_url")], where);
    listed[{stage, view}] += static_cast<int>(names.size());
    auto group = terms_of.find({gene, stage});
    if (group == terms_of.end()) {
      ds.add_skip("images of a group without a row in standard_annotations.csv",
                  static_cast<int>(names.size()));
      continue;
    }
    for (const auto& name : names) {
      const std::string number = bdgp_number(name, where);
      auto [seen, fresh] = first_listing.emplace(number, Listing{gene, stage, view});
      if (!fresh) {
        const Listing& first = seen->second;
        if (first.gene == gene && first.stage == stage && first.view == view)
          ds.add_skip("image listed twice in the same group (kept once, counted as listed)");
        else if (first.gene != gene)
          ds.add_skip("image listed under a second gene (first listing kept)");
        else
          ds.add_skip("image listed under a second stage range or view (first listing kept)");
        continue;
      }
      ImageRecord rec;
      rec.id = "insitu" + number;
      rec.gene = gene;
      rec.stage_range = stage;
      rec.view = view;
      rec.terms = group->second;
      if (!params.image_folder.empty()) {
        auto file = files.find(number);
        if (file == files.end()) {
          ds.add_skip("listed image not in the image folder");
          continue;
        }
        rec.path = file->second;
      }
      ds.images.push_back(std::move(rec));
    }
  }
  // Entries as listed describe the tables; once joined with a folder the images are what counts.
  if (params.image_folder.empty())
    for (const auto& [key, count] : listed) ds.listed.push_back({key.first, key.second, count});
  return ds;
}

}  // namespace ishannot
