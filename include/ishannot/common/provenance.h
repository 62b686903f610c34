#pragma once
// Who made an output, and from what: the one value a caller hands the library with every job that
// writes files (extract, merge, finetune, baseline, train, annotate, evaluate, report, export).
// The library writes it where that output keeps its provenance: a feature store's or a bundle's
// root attributes, run.json's and report.json's `provenance` object, a model package's metadata.
// The CLI makes one per run (apps/ishannot/reporter.cpp: its command line and --seed); a library
// caller with no command line leaves command_line empty and the outputs say so ("").
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ishannot {

/// One input of a run, as its outputs name it.
struct ProvenanceInput {
  std::string role;    ///< the key it is written under: "dataset", "data", "training_data" ...
  std::string path;    ///< as the caller gave it (the writer does not resolve it)
  std::string sha256;  ///< hex digest; "" = not computed (then no `<role>_sha256` key)
};

struct Provenance {
  std::string tool_version;  ///< the making tool's version ("" = this library's, ISHANNOT_VERSION)
  std::string command_line;  ///< written as `created_by` (the CLI quotes its argv)
  std::optional<uint64_t> seed;  ///< the run's --seed, when the caller has one
  std::vector<ProvenanceInput> inputs;
  std::map<std::string, std::string> extra;  ///< more keys (an ontology's name and version ...)

  /// The flat key -> value form outputs keep: tool_version, created_by, seed (when set), each
  /// input as `role` = path and `role_sha256` = sha256 (when given), then `extra` (which may
  /// override none of those: check() says so).
  std::map<std::string, std::string> entries() const;
  /// The version written: tool_version, or ISHANNOT_VERSION when it is empty.
  std::string version() const;
  /// Adds an input (a role given twice keeps the last).
  Provenance& add_input(const std::string& role, const std::string& path,
                        const std::string& sha256 = "");
  /// "" or what is wrong (an input without a role, an extra key shadowing a standard one).
  std::string check() const;
};

}  // namespace ishannot
