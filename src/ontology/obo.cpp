// OBO parsing (include/ishannot/ontology/obo.h).
#include "ishannot/ontology/obo.h"

#include <deque>
#include <fstream>
#include <unordered_set>

#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"

namespace ishannot {

namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// A value without its trailing "! comment" and "{qualifiers}" (outside quoted text).
std::string strip_value(const std::string& value) {
  bool quoted = false;
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c == '\\') {
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (!quoted && (c == '!' || c == '{') && (i == 0 || value[i - 1] == ' ')) {
      return trim(value.substr(0, i));
    }
  }
  return trim(value);
}

struct LineParser {
  const std::string& source;
  int line = 0;
  Error error(const std::string& problem) const {
    return file_error(source + ":" + std::to_string(line), problem);
  }

  // `"TEXT" SCOPE ...` -> synonym.
  OboSynonym synonym(const std::string& value) const {
    if (value.empty() || value[0] != '"') throw error("synonym without quoted text: " + value);
    OboSynonym s;
    size_t i = 1;
    for (; i < value.size() && value[i] != '"'; ++i) {
      if (value[i] == '\\' && i + 1 < value.size()) ++i;
      s.text += value[i];
    }
    if (i >= value.size()) throw error("synonym text without closing quote: " + value);
    const std::string rest = trim(value.substr(i + 1));
    s.scope = rest.substr(0, rest.find_first_of(" ["));
    if (s.scope != "EXACT" && s.scope != "RELATED" && s.scope != "NARROW" && s.scope != "BROAD")
      throw error("synonym scope '" + s.scope + "' is not EXACT, RELATED, NARROW or BROAD");
    return s;
  }

  std::string target(const std::string& value, const std::string& tag) const {
    const std::string id = value.substr(0, value.find(' '));
    if (id.empty()) throw error(tag + " without a target id");
    return id;
  }
};

void add_tag(OboTerm& term, const std::string& tag, const std::string& value, const LineParser& p) {
  if (tag == "id") {
    term.id = value;
  } else if (tag == "name") {
    term.name = value;
  } else if (tag == "synonym") {
    term.synonyms.push_back(p.synonym(value));
  } else if (tag == "is_a") {
    term.is_a.push_back(p.target(value, "is_a"));
  } else if (tag == "relationship") {
    const auto space = value.find(' ');
    if (space == std::string::npos) throw p.error("relationship without a target: " + value);
    if (value.substr(0, space) == "part_of")
      term.part_of.push_back(p.target(trim(value.substr(space + 1)), "part_of"));
  } else if (tag == "is_obsolete") {
    term.obsolete = value == "true";
  } else if (tag == "replaced_by") {
    term.replaced_by.push_back(p.target(value, "replaced_by"));
  } else if (tag == "consider") {
    term.consider.push_back(p.target(value, "consider"));
  }
}

}  // namespace

const OboTerm* Ontology::find(const std::string& id) const {
  const auto at = index.find(id);
  return at == index.end() ? nullptr : &terms[at->second];
}

std::vector<std::string> Ontology::ancestors(const std::string& id) const {
  std::vector<std::string> out;
  std::unordered_set<std::string> seen{id};
  std::deque<std::string> queue{id};
  while (!queue.empty()) {
    const OboTerm* term = find(queue.front());
    queue.pop_front();
    if (!term) continue;
    for (const auto* parents : {&term->is_a, &term->part_of})
      for (const auto& parent : *parents)
        if (seen.insert(parent).second) {
          out.push_back(parent);
          queue.push_back(parent);
        }
  }
  return out;
}

Ontology parse_obo(std::istream& in, const std::string& source) {
  Ontology o;
  o.path = source;
  LineParser p{source};
  std::string raw, stanza;  // stanza: "" = header
  OboTerm* term = nullptr;
  auto close_term = [&] {
    if (!term) return;
    if (term->id.empty()) throw p.error("[Term] stanza without an id");
    if (!o.index.emplace(term->id, o.terms.size() - 1).second)
      throw p.error("term " + term->id + " defined twice");
    term = nullptr;
  };
  while (std::getline(in, raw)) {
    ++p.line;
    const std::string line = trim(raw);
    if (line.empty() || line[0] == '!') continue;
    if (line[0] == '[') {
      if (line.back() != ']') throw p.error("stanza header without ']': " + line);
      close_term();
      stanza = line.substr(1, line.size() - 2);
      if (stanza == "Term") term = &o.terms.emplace_back();
      continue;
    }
    const auto colon = line.find(':');
    if (colon == std::string::npos || colon == 0)
      throw p.error("not a 'tag: value' line: " + line.substr(0, 60));
    const std::string tag = line.substr(0, colon);
    const std::string value = strip_value(line.substr(colon + 1));
    if (stanza.empty()) {
      if (tag == "data-version") o.data_version = value;
      if (tag == "format-version") o.format_version = value;
      if (tag == "ontology") o.name = value;
    } else if (term) {
      add_tag(*term, tag, value, p);
    }
  }
  close_term();
  if (in.bad()) throw file_error(source, "read error");
  return o;
}

Ontology read_obo(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw file_error(path, describe_unreadable(path));
  return parse_obo(in, path);
}

}  // namespace ishannot
