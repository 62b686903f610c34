// --ontology for the CLI (ontology_cli.h).
#include "ontology_cli.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "ishannot/common/fs_util.h"
#include "ishannot/ontology/term_columns.h"

namespace ishannot::cli {

CLI::Option* add_ontology_option(CLI::App* cmd, std::string& path) {
  return cmd->add_option("--ontology", path,
                         "an OBO file (FlyBase's fbbt.obo): term ids in a term_id column, "
                         "terms.tsv says how each term resolved");
}

std::string OntologyTerms::version() const {
  return (ontology.name.empty() ? std::string("ontology") : ontology.name) + " " +
         (ontology.data_version.empty() ? std::string("(no data-version)") : ontology.data_version);
}

std::unique_ptr<OntologyTerms> read_ontology_option(const std::string& path) {
  if (path.empty()) return nullptr;
  auto out = std::make_unique<OntologyTerms>();
  out->ontology = read_obo(path);
  return out;
}

std::unique_ptr<OntologyTerms> load_ontology_terms(const std::string& path,
                                                   const std::vector<std::string>& terms,
                                                   const Reporter& reporter) {
  auto out = read_ontology_option(path);
  if (out) resolve_ontology_terms(*out, terms, reporter);
  return out;
}

void resolve_ontology_terms(OntologyTerms& ontology, const std::vector<std::string>& terms,
                            const Reporter& reporter) {
  OntologyTerms* out = &ontology;
  const std::string& path = ontology.ontology.path;
  out->resolutions = TermResolver(out->ontology).resolve(terms);
  out->ids = resolved_ids(out->resolutions);
  reporter.info("ontology " + out->version() + " (" + path +
                "): " + std::to_string(out->ontology.terms.size()) + " terms; the " +
                std::to_string(terms.size()) +
                " terms here: " + summarise_resolutions(out->resolutions));
  for (const auto& r : out->resolutions) {
    if (r.kind != ResolutionKind::kAmbiguous && r.kind != ResolutionKind::kUnresolved) continue;
    std::string line = std::string(resolution_kind_name(r.kind)) + ": '" + r.term + "'";
    for (size_t i = 0; i < r.candidates.size(); ++i)
      line += (i ? "; " : " (candidates: ") + r.candidates[i];
    reporter.info(line + (r.candidates.empty() ? "" : ")"));
  }
}

int64_t add_ontology_to_folder(const OntologyTerms& terms, const std::string& dir,
                               const std::vector<std::string>& propagate) {
  write_term_resolutions(dir + "/terms.tsv", terms.ontology, terms.resolutions);
  return add_term_columns(folder_tsv_files(dir), terms.ids, &terms.ontology, propagate).propagated;
}

std::string term_table(const OntologyTerms& terms) {
  std::ostringstream out;
  out << "\nterms in " << terms.version() << " (" << terms.ontology.path << "):\n";
  size_t width = 4;
  for (const auto& r : terms.resolutions) width = std::max(width, r.term.size());
  for (const auto& r : terms.resolutions) {
    out << "  " << r.term << std::string(width + 2 - r.term.size(), ' ');
    if (r.kind == ResolutionKind::kResolved) {
      out << r.id << "  " << r.rule << (r.name != r.term ? " -> '" + r.name + "'" : "") << "\n";
      continue;
    }
    out << resolution_kind_name(r.kind);
    if (!r.rule.empty()) out << " (" << r.rule << ")";
    for (size_t i = 0; i < r.candidates.size() && i < 3; ++i)
      out << (i ? "; " : ": candidates ") << r.candidates[i];
    out << "\n";
  }
  return out.str();
}

std::vector<std::string> dataset_terms(const Dataset& dataset) {
  std::set<std::string> terms;
  for (const auto& image : dataset.images) terms.insert(image.terms.begin(), image.terms.end());
  return {terms.begin(), terms.end()};
}

std::map<std::string, std::string> ontology_attributes(const OntologyTerms& terms) {
  nlohmann::json ids = nlohmann::json::object();
  for (const auto& [term, id] : terms.ids) ids[term] = id;
  return {{"ontology", terms.version()},
          {"ontology_path", absolute_path(terms.ontology.path)},
          {"term_ids", ids.dump()}};
}

}  // namespace ishannot::cli
