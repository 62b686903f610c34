// term_id columns and propagation (include/ishannot/ontology/term_columns.h).
#include "ishannot/ontology/term_columns.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "detail/tsv.h"
#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/common/output_columns.h"

namespace ishannot {

namespace {

using Row = std::vector<std::string>;

void write_row(std::ostream& out, const Row& row) {
  for (size_t i = 0; i < row.size(); ++i) out << (i ? "\t" : "") << row[i];
  out << '\n';
}

// The columns of the rewritten file and where each comes from.
struct Layout {
  int term = -1, old_id = -1, score = -1;
  std::string positive;  // the 0/1 column of a positive call: predicted (label: older files)
  Row header;
};

Layout layout(const detail::TsvReader& in, bool propagate) {
  Layout l;
  l.term = in.require("term");
  l.old_id = in.column("term_id");
  for (int c = 0; c < static_cast<int>(in.header().size()); ++c) {
    if (c == l.old_id) continue;
    l.header.push_back(in.header()[c]);
    if (c == l.term) l.header.push_back("term_id");
  }
  if (propagate) {
    l.score = in.require("score");
    // The majority vote (annotate's image, group and bag files alike; the old `label` is gone).
    l.positive = "predicted";
    in.require(l.positive);
    for (const char* name : {"propagated", "implied_by"})
      if (in.column(name) >= 0)
        throw file_error(in.path(), std::string("already has a '") + name + "' column");
    l.header.push_back("propagated");
    l.header.push_back("implied_by");
  }
  return l;
}

Row with_id(const Row& cells, const Layout& l, const std::string& id) {
  Row out;
  for (int c = 0; c < static_cast<int>(cells.size()); ++c) {
    if (c == l.old_id) continue;
    out.push_back(cells[c]);
    if (c == l.term) out.push_back(id);
  }
  return out;
}

// One unit's rows (already with term_id at l.term + 1 and propagated/implied_by appended).
void propagate_unit(std::vector<Row>& unit, const Layout& l, const Ontology& o,
                    TermColumnsSummary& s) {
  auto column = [&](const std::string& name) {
    return static_cast<size_t>(std::find(l.header.begin(), l.header.end(), name) -
                               l.header.begin());
  };
  const size_t id_col = column("term_id"), score_col = column("score"),
               label_col = column(l.positive);
  std::set<std::string> named;
  for (const auto& r : unit) named.insert(r[id_col]);
  std::vector<std::string> order;      // ancestors, first seen first
  std::map<std::string, size_t> best;  // ancestor -> row of its best positive descendant
  const size_t direct = unit.size();
  for (size_t i = 0; i < direct; ++i) {
    if (unit[i][label_col] != "1" || unit[i][id_col].empty()) continue;
    for (const auto& a : o.ancestors(unit[i][id_col])) {
      if (named.count(a) || !o.find(a)) continue;
      auto [at, fresh] = best.emplace(a, i);
      if (fresh)
        order.push_back(a);
      else if (std::stod(unit[i][score_col]) > std::stod(unit[at->second][score_col]))
        at->second = i;
    }
  }
  for (const auto& a : order) {
    Row r = unit[best[a]];
    r[l.term] = detail::tsv_field(o.find(a)->name);
    r[id_col] = a;
    r[r.size() - 2] = "1";
    r[r.size() - 1] = unit[best[a]][l.term];
    unit.push_back(std::move(r));
    ++s.propagated;
  }
}

}  // namespace

std::map<std::string, std::string> resolved_ids(const std::vector<TermResolution>& resolutions) {
  std::map<std::string, std::string> ids;
  for (const auto& r : resolutions)
    if (r.kind == ResolutionKind::kResolved) ids[r.term] = r.id;
  return ids;
}

TermColumnsSummary add_term_columns(const std::string& path,
                                    const std::map<std::string, std::string>& ids,
                                    const Ontology* ontology) {
  TermColumnsSummary s;
  write_atomically(path, [&](const std::string& tmp) {
    detail::TsvReader in(path);
    const Layout l = layout(in, ontology != nullptr);
    std::ofstream out(tmp);
    write_row(out, l.header);
    std::vector<Row> unit;
    Row key;
    auto flush = [&] {
      if (ontology) propagate_unit(unit, l, *ontology, s);
      for (const auto& r : unit) write_row(out, r);
      unit.clear();
    };
    while (in.next()) {
      const Row& cells = in.cells();
      const Row row_key(cells.begin(), cells.begin() + l.term);
      if (row_key != key) flush();
      key = row_key;
      const auto at = ids.find(cells[l.term]);
      const std::string id = at == ids.end() ? "" : at->second;
      Row row = with_id(cells, l, id);
      if (ontology) {
        row.push_back("0");
        row.push_back("");
      }
      unit.push_back(std::move(row));
      ++s.rows;
      if (!id.empty()) ++s.with_id;
    }
    flush();
    out.flush();
    if (!out) throw file_error(path, "cannot write (disk full?)");
  });
  return s;
}

std::vector<std::string> folder_tsv_files(const std::string& dir) {
  // Only the TSVs ishannot writes (common/output_columns.h): a user's own files are not touched.
  std::set<std::string> ours;
  for (const OutputKind kind : {OutputKind::kEvaluate, OutputKind::kAnnotate, OutputKind::kReport})
    for (const auto& c : output_columns(kind))
      if (c.file != "terms.tsv" && c.file != "columns.tsv") ours.insert(c.file);
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.is_regular_file() &&
        ours.count(std::filesystem::relative(e.path(), dir).generic_string()))
      files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<std::string> distinct_terms(const std::vector<std::string>& files) {
  std::set<std::string> terms;
  for (const auto& file : files) {
    detail::TsvReader in(file);
    const int column = in.column("term");
    if (column < 0) continue;
    while (in.next())
      if (!in.text(column).empty()) terms.insert(in.text(column));
  }
  return {terms.begin(), terms.end()};
}

TermColumnsSummary add_term_columns(const std::vector<std::string>& files,
                                    const std::map<std::string, std::string>& ids,
                                    const Ontology* ontology,
                                    const std::vector<std::string>& propagate_suffixes) {
  TermColumnsSummary total;
  for (const auto& file : files) {
    if (detail::TsvReader(file).column("term") < 0) continue;
    bool propagate = false;
    for (const auto& suffix : propagate_suffixes)
      propagate =
          propagate || (file.size() >= suffix.size() &&
                        file.compare(file.size() - suffix.size(), suffix.size(), suffix) == 0);
    const auto s = add_term_columns(file, ids, propagate ? ontology : nullptr);
    total.rows += s.rows;
    total.with_id += s.with_id;
    total.propagated += s.propagated;
  }
  return total;
}

std::string add_term_column_text(const std::string& tsv,
                                 const std::map<std::string, std::string>& ids) {
  std::istringstream in(tsv);
  std::ostringstream out;
  std::string line;
  int term = -1;
  for (bool header = true; std::getline(in, line); header = false) {
    Row cells;
    std::istringstream fields(line);
    for (std::string cell; std::getline(fields, cell, '\t');) cells.push_back(cell);
    if (!line.empty() && line.back() == '\t') cells.emplace_back();
    if (header) {
      const auto at = std::find(cells.begin(), cells.end(), "term");
      if (at == cells.end()) return tsv;
      term = static_cast<int>(at - cells.begin());
      cells.insert(cells.begin() + term + 1, "term_id");
    } else if (term < static_cast<int>(cells.size())) {
      const auto id = ids.find(cells[term]);
      cells.insert(cells.begin() + term + 1, id == ids.end() ? "" : id->second);
    }
    write_row(out, cells);
  }
  return out.str();
}

}  // namespace ishannot
