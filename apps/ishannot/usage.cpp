// --help wrapped at 100 columns and "did you mean" for unknown options (usage.h).
#include "usage.h"

#include <algorithm>
#include <sstream>
#include <vector>

namespace ishannot::cli {

namespace {

// Where the description of a help line starts: after the first run of 2+ blanks that follows a
// non-blank character; 0 when there is none.
size_t description_column(const std::string& line) {
  const size_t text = line.find_first_not_of(' ');
  if (text == std::string::npos) return 0;
  const size_t gap = line.find("  ", text);
  if (gap == std::string::npos) return 0;
  const size_t start = line.find_first_not_of(' ', gap);
  return start == std::string::npos ? 0 : start;
}

std::string wrap_line(const std::string& line, size_t width) {
  if (line.size() <= width) return line;
  size_t indent = description_column(line);
  if (indent == 0 || indent >= width / 2)
    indent = std::min(line.find_first_not_of(' ') + 2, width / 2);
  std::string out, rest = line;
  bool first = true;
  while (rest.size() > width) {
    size_t cut = rest.rfind(' ', width);
    const size_t floor = first ? indent : indent + 1;
    if (cut == std::string::npos || cut <= floor)
      cut = rest.find(' ', width);  // an unbreakable word
    if (cut == std::string::npos) break;
    out += rest.substr(0, cut) + "\n";
    const size_t next = rest.find_first_not_of(' ', cut);
    rest = std::string(indent, ' ') + (next == std::string::npos ? "" : rest.substr(next));
    first = false;
  }
  return out + rest;
}

}  // namespace

std::string wrap_lines(const std::string& text, size_t width) {
  std::istringstream in(text);
  std::string line, out;
  while (std::getline(in, line)) out += wrap_line(line, width) + "\n";
  if (!text.empty() && text.back() != '\n' && !out.empty()) out.pop_back();
  return out;
}

std::string WrappingFormatter::make_help(const CLI::App* app, std::string name,
                                         CLI::AppFormatMode mode) const {
  return wrap_lines(CLI::Formatter::make_help(app, std::move(name), mode));
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::string closest_name(const std::string& unknown, const std::vector<std::string>& known) {
  const size_t limit = std::max<size_t>(2, unknown.size() / 3);
  std::string best;
  size_t best_distance = limit + 1;
  for (const auto& name : known) {
    const size_t d = edit_distance(unknown, name);
    if (d < best_distance) {
      best = name;
      best_distance = d;
    }
  }
  return best;
}

namespace {

std::vector<std::string> option_names(const CLI::App& app) {
  std::vector<std::string> out;
  for (const CLI::Option* opt : app.get_options()) {
    for (const auto& n : opt->get_lnames()) out.push_back("--" + n);
    for (const auto& n : opt->get_snames()) out.push_back("-" + n);
  }
  return out;
}

}  // namespace

std::string unknown_option_message(const std::vector<std::string>& extras, const CLI::App& root,
                                   const CLI::App* command) {
  for (const auto& word : extras) {
    if (word.size() < 2 || word[0] != '-' || (word[1] >= '0' && word[1] <= '9')) continue;
    const std::string option = word.substr(0, word.find('='));
    std::vector<std::string> known = option_names(command ? *command : root);
    const std::string where = command ? "ishannot " + command->get_name() : "ishannot";
    std::string guess = closest_name(option, known);
    std::string note;
    if (guess.empty() && command) {
      guess = closest_name(option, option_names(root));
      if (!guess.empty()) note = " (a global option)";
    }
    return "unknown option '" + option + "' for " + where +
           (guess.empty() ? "" : "; did you mean " + guess + note + "?") + " (" + where +
           " --help for the options)";
  }
  return "";
}

}  // namespace ishannot::cli
