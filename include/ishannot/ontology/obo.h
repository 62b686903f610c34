#pragma once
// The Drosophila Anatomy Ontology (FBbt) or any OBO 1.2/1.4 file: terms with their names,
// synonyms (and scope), is_a and part_of links, obsolete flags, and the header's data-version.
// FlyBase publishes FBbt at http://purl.obolibrary.org/obo/fbbt.obo (full) and
// .../fbbt/fbbt-simple.obo (simple: asserted links only); both parse. docs/SHARING.md.
//
// What is read: header lines before the first stanza (`data-version:`, `format-version:`,
// `ontology:`); [Term] stanzas' `id`, `name`, `synonym: "TEXT" SCOPE [TYPE] [XREFS]`, `is_a: ID`,
// `relationship: part_of ID`, `is_obsolete: true`, `replaced_by`, `consider`; every other tag
// is skipped. [Typedef] and
// other stanzas are skipped whole. `! comments` after a value and trailing `{qualifiers}` are
// dropped; `\"` and `\\` escapes in quoted text are undone.
// A line that does not parse throws Error "PATH:LINE: PROBLEM" (no "tag: value" form, a stanza
// header without ']', a synonym without quoted text or with an unknown scope, a link without a
// target, a [Term] without id or with an id seen before).
#include <cstddef>
#include <istream>
#include <string>
#include <unordered_map>
#include <vector>

namespace ishannot {

struct OboSynonym {
  std::string text;
  std::string scope;  ///< EXACT, RELATED, NARROW or BROAD
};

struct OboTerm {
  std::string id;  ///< "FBbt:00005624"
  std::string name;
  std::vector<OboSynonym> synonyms;
  std::vector<std::string> is_a, part_of;  ///< ids of the direct parents by each relation
  bool obsolete = false;
  std::vector<std::string> replaced_by, consider;  ///< an obsolete term's successors
};

struct Ontology {
  std::string path;            ///< where it was read from ("" for text)
  std::string data_version;    ///< header `data-version` ("" when absent)
  std::string format_version;  ///< header `format-version`
  std::string name;            ///< header `ontology` ("fbbt")
  std::vector<OboTerm> terms;  ///< in file order

  /// The term with this id, or nullptr.
  const OboTerm* find(const std::string& id) const;
  /// Every ancestor of `id` by is_a and part_of, transitively (not `id` itself), each once,
  /// nearest first (breadth-first); unknown parent ids are kept (they may name another
  /// ontology's term) but not followed.
  std::vector<std::string> ancestors(const std::string& id) const;

  std::unordered_map<std::string, size_t> index;  ///< id -> position in terms
};

/// Parses OBO text; `source` names it in errors (a path).
Ontology parse_obo(std::istream& in, const std::string& source);
/// Reads an OBO file (Error naming it when it is missing or does not parse).
Ontology read_obo(const std::string& path);

}  // namespace ishannot
