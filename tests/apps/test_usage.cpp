// How ishannot talks about its command line: --help lists the commands in workflow order and
// no help line is wider than 100 columns; an unknown option is named first, with the closest
// known one (edit distance, checked here on spellings worked by hand).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "support/test_paths.h"

namespace {

struct Result {
  int status = -1;
  std::string out, err;
};

// stdout and stderr apart.
Result run(const std::string& args) {
  const std::string err_file = ishannot::test::temp_dir("usage") + "/err.txt";
  const std::string command = ishannot::test::ishannot_binary() + " " + args + " 2>" + err_file;
  Result r;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buffer;
  size_t n = 0;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) r.out.append(buffer.data(), n);
  const int status = pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  FILE* f = std::fopen(err_file.c_str(), "r");
  while (f && (n = fread(buffer.data(), 1, buffer.size(), f)) > 0) r.err.append(buffer.data(), n);
  if (f) std::fclose(f);
  return r;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

}  // namespace

TEST(Usage, HelpListsCommandsInWorkflowOrderWithinOneHundredColumns) {
  const Result help = run("--help");
  ASSERT_EQ(help.status, 0) << help.err;
  std::vector<std::string> commands;
  bool in_list = false;
  for (const auto& line : lines_of(help.out)) {
    EXPECT_LE(line.size(), 100u) << line;
    if (line == "Subcommands:") in_list = true;
    if (!in_list || line.size() < 3 || line[2] == ' ' || line == "Subcommands:") continue;
    commands.push_back(line.substr(2, line.find(' ', 2) - 2));
  }
  // The order of the work (README), with the CNN commands only where libtorch was built.
  const std::vector<std::string> order = {
      "demo",       "classify", "fetch",    "standardize", "dataset",  "synth",
      "extract",    "merge",    "baseline", "finetune",    "evaluate", "report",
      "experiment", "train",    "annotate", "inspect",     "export"};
  std::vector<std::string> expected;
  for (const auto& c : order)
    if (std::find(commands.begin(), commands.end(), c) != commands.end()) expected.push_back(c);
  EXPECT_EQ(commands, expected);
  EXPECT_GE(commands.size(), 9u);
  for (const auto& c : commands) {
    const Result sub = run(c + " --help");
    ASSERT_EQ(sub.status, 0) << c;
    for (const auto& line : lines_of(sub.out)) EXPECT_LE(line.size(), 100u) << c << ": " << line;
  }
}

// --precision is the arithmetic of a network annotate runs; with --features it runs none.
TEST(Usage, AnnotatePrecisionWithStoredFeaturesIsAUsageError) {
  const Result r = run("annotate --model m.h5 --data d --out o --features f.h5 --precision bf16");
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("--precision"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--features"), std::string::npos) << r.err;
  EXPECT_EQ(lines_of(r.err).size(), 1u) << r.err;
}

TEST(Usage, UnknownOptionIsNamedFirstWithTheClosestKnownOne) {
  const Result r = run("annotate --model m.h5 --data d --out o --heatmap 3");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err.rfind("ishannot: error: unknown option '--heatmap' for ishannot annotate; did "
                        "you mean --heatmaps?",
                        0),
            0u)
      << r.err;
  EXPECT_EQ(lines_of(r.err).size(), 1u) << r.err;
  // Two letters swapped (distance 2), a missing dash, '=' values.
  EXPECT_NE(run("evaluate --data x --featrues f.h5 --out o").err.find("did you mean --features?"),
            std::string::npos);
  // An unknown option that hid a required one is still what the error names.
  EXPECT_NE(run("train -data x --out m.h5").err.find("unknown option '-data' for ishannot train"),
            std::string::npos);
  EXPECT_NE(run("dataset --data x --stage=4").err.find("did you mean --stages?"),
            std::string::npos);
  // Nothing close: no guess, still named first.
  const Result far = run("dataset --data x --frobnicate");
  EXPECT_EQ(far.status, 2);
  EXPECT_NE(far.err.find("unknown option '--frobnicate' for ishannot dataset (ishannot dataset "
                         "--help for the options)"),
            std::string::npos)
      << far.err;
  EXPECT_EQ(far.err.find("did you mean"), std::string::npos) << far.err;
  // A global option misspelt.
  EXPECT_NE(run("--thred dataset --data x").err.find("did you mean --threads (a global option)?"),
            std::string::npos);
}
