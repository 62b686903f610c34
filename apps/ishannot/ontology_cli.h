#pragma once
// `--ontology FBBT.obo` for dataset, train, annotate, evaluate and report (CLI-internal): the OBO
// file read once, the command's terms resolved (ontology/term_resolution.h), terms.tsv written
// beside the outputs and `term_id` added to every TSV with a `term` column
// (ontology/term_columns.h). The spelling and help text are defined once here.
#include <CLI/CLI.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ishannot/common/progress.h"
#include "ishannot/data/dataset.h"
#include "ishannot/ontology/obo.h"
#include "ishannot/ontology/term_resolution.h"

namespace ishannot::cli {

CLI::Option* add_ontology_option(CLI::App* cmd, std::string& path);

struct OntologyTerms {
  Ontology ontology;
  std::vector<TermResolution> resolutions;
  std::map<std::string, std::string> ids;  ///< resolved terms only
  /// "fbbt 2013-07-26" (the header's ontology and data-version).
  std::string version() const;
};

/// Reads `path` (nullptr when it is ""): before a long run, so that a bad file fails first.
std::unique_ptr<OntologyTerms> read_ontology_option(const std::string& path);
/// Resolves `terms` and reports the counts and every ambiguous or unresolved term (with its
/// candidates) through `reporter`.
void resolve_ontology_terms(OntologyTerms& ontology, const std::vector<std::string>& terms,
                            const Reporter& reporter);
/// Both.
std::unique_ptr<OntologyTerms> load_ontology_terms(const std::string& path,
                                                   const std::vector<std::string>& terms,
                                                   const Reporter& reporter);

/// Writes DIR/terms.tsv and adds `term_id` to every TSV under DIR that has a `term` column;
/// files whose path ends with one of `propagate` (with --propagate: "/annotations.tsv") also get
/// the implied ancestors. Returns the rows added by propagation.
int64_t add_ontology_to_folder(const OntologyTerms& terms, const std::string& dir,
                               const std::vector<std::string>& propagate = {});

/// The resolutions as a table for people: term, id, status and rule (or candidates).
std::string term_table(const OntologyTerms& terms);

/// Distinct CV terms of the images of a dataset, sorted.
std::vector<std::string> dataset_terms(const Dataset& dataset);

/// Root attributes that record the ontology in a model bundle or run.json: ontology (its
/// version), ontology_path, term_ids (JSON object term -> id of the resolved terms).
std::map<std::string, std::string> ontology_attributes(const OntologyTerms& terms);

}  // namespace ishannot::cli
