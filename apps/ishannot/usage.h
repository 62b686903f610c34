#pragma once
// How `ishannot` talks about its own command line: --help wrapped at 100 columns, and an unknown
// option named first with the closest known one ("did you mean --heatmaps?").
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace ishannot::cli {

/// The widest line --help prints; longer descriptions continue on the next line, indented to
/// their column.
constexpr size_t kHelpColumns = 100;

/// CLI11's formatter with every help line wrapped at kHelpColumns. Set it on the main app before
/// the subcommands are added (they copy it).
class WrappingFormatter : public CLI::Formatter {
 public:
  std::string make_help(const CLI::App* app, std::string name,
                        CLI::AppFormatMode mode) const override;
};

/// Wraps every line of `text` longer than `width` at its last blank before `width`; a continued
/// line is indented to where the wrapped line's description starts (after the first run of two
/// or more blanks following its name), or to its own indentation.
std::string wrap_lines(const std::string& text, size_t width = kHelpColumns);

/// Levenshtein distance (insertions, deletions, substitutions, each 1).
size_t edit_distance(const std::string& a, const std::string& b);

/// The known name closest to `unknown` by edit distance ("" when none is within
/// max(2, unknown.size() / 3); ties: the first in `known`).
std::string closest_name(const std::string& unknown, const std::vector<std::string>& known);

/// For arguments CLI11 did not expect (`extras`, as App::remaining gives them): one line naming
/// the first unexpected option first, then the closest option of `command` (the subcommand, or
/// the main app when null), else of the main app `root`; "" when no extra is an option.
std::string unknown_option_message(const std::vector<std::string>& extras, const CLI::App& root,
                                   const CLI::App* command);

}  // namespace ishannot::cli
