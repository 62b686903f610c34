// Every subcommand follows the same command-line conventions. The test walks `ishannot --help`
// for the subcommands (so commands added later are checked too), reads each one's --help, and
// checks the shared options against the spelling written here by hand: the same name, type and
// help text wherever an option appears, options that belong together appear together, retired
// spellings are gone, and bad usage exits with 2 everywhere.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>

#include "support/test_paths.h"

namespace {

struct Result {
  int status = -1;
  std::string output;
};

Result run(const std::string& args) {
  const std::string command = ishannot::test::ishannot_binary() + " " + args + " 2>&1";
  Result r;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buffer;
  size_t n = 0;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) r.output.append(buffer.data(), n);
  const int status = pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Option name -> the rest of its --help entry (type, default, description), from CLI11's layout:
// "  --name TYPE=DEFAULT    description" with the description on the next line when long.
std::map<std::string, std::string> options_of(const std::string& help) {
  std::map<std::string, std::string> out;
  std::istringstream in(help);
  std::string line, current;
  bool in_options = false;
  while (std::getline(in, line)) {
    if (line == "Options:") {
      in_options = true;
      continue;
    }
    if (!in_options || line.empty()) continue;
    if (line.rfind("  -", 0) == 0) {
      std::istringstream words(line);
      std::string names;
      words >> names;
      current = names.substr(names.rfind(',') == std::string::npos ? 0 : names.rfind(',') + 1);
      out[current] = line.substr(2 + names.size());
    } else if (!current.empty()) {  // the entry continued (wrapped at 100 columns)
      out[current] += " " + line.substr(std::min(line.size(), line.find_first_not_of(' ')));
    }
  }
  return out;
}

std::vector<std::string> subcommands() {
  const Result help = run("--help");
  std::vector<std::string> names;
  std::istringstream in(help.output);
  std::string line;
  bool in_list = false;
  while (std::getline(in, line)) {
    if (line == "Subcommands:") {
      in_list = true;
      continue;
    }
    if (!in_list || line.size() < 3 || line[2] == ' ') continue;
    std::istringstream words(line);
    std::string name;
    words >> name;
    names.push_back(name);
  }
  return names;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST(CliConventions, SharedOptionsAreSpelledTheSameInEveryCommand) {
  const auto commands = subcommands();
  ASSERT_GE(commands.size(), 4u) << "could not read the subcommands from ishannot --help";
  const std::string data_help =
      "dataset: manifest CSV, BDGP-table folder (standard_*.csv) or image folder";
  const std::string pool_grammar =
      "none | G | GhxGw (rows x columns, e.g. 2x5) | avg | max, optionally prefixed avg: or max:";
  for (const auto& command : commands) {
    SCOPED_TRACE(command);
    const Result help = run(command + " --help");
    ASSERT_EQ(help.status, 0) << help.output;
    const auto options = options_of(help.output);
    auto has = [&](const std::string& name) { return options.count(name) > 0; };
    // An option, where a command has it, says `part` in its help entry.
    auto expect_says = [&](const std::string& name, const std::string& part) {
      const auto it = options.find(name);
      if (it == options.end()) return;
      EXPECT_TRUE(contains(it->second, part)) << name << ": " << it->second;
    };
    expect_says("--data", data_help);
    expect_says("--pool", pool_grammar);
    expect_says("--head-pool", "--pool's spelling");
    expect_says("--pyramid", "--pool's spelling");
    expect_says("--dtype", "TEXT:{float32,float16}=float32");
    expect_says("--stages", "stage ranges, comma-separated");
    expect_says("--batch", "INT:N >= 1");
    expect_says("--exclude", "comma-separated (repeatable)");
    expect_says("--ontology", "an OBO file (FlyBase's fbbt.obo)");
    // Options that belong together.
    EXPECT_EQ(has("--resume"), has("--restart"));
    EXPECT_EQ(has("--fold"), has("--train-genes"));
    EXPECT_EQ(has("--top-k"), has("--view"));
    EXPECT_EQ(has("--top-k"), has("--exclude"));
    EXPECT_EQ(has("--top-k"), has("--exclude-non-spatial"));
    // Retired or stray spellings.
    for (const char* retired :
         {"--float16", "--stage-ranges", "--no-resume", "--threads", "--seed"})
      EXPECT_FALSE(has(retired)) << retired << " belongs nowhere in a subcommand";
  }
}

TEST(CliConventions, BadUsageExitsTwoEverywhere) {
  const Result unknown = run("predict --help");
  EXPECT_EQ(unknown.status, 2) << unknown.output;
  EXPECT_TRUE(contains(unknown.output, "unknown subcommand 'predict'")) << unknown.output;
  EXPECT_TRUE(contains(unknown.output, "evaluate")) << "the known subcommands are listed";
  EXPECT_EQ(run("").status, 2);
  EXPECT_EQ(run("--seed 18446744073709551616 dataset --data x").status, 2);
  EXPECT_EQ(run("--threads -1 dataset --data x").status, 2);
  for (const auto& command : subcommands()) {
    SCOPED_TRACE(command);
    EXPECT_EQ(run(command + " --no-such-option").status, 2);
  }
  // Values checked after parsing are usage errors too.
  EXPECT_EQ(run("evaluate --data x.csv --features x.h5 --out o --folds 1").status, 2);
  EXPECT_EQ(run("evaluate --data x.csv --features x.h5 --out o --stages 5-9").status, 2);
  EXPECT_EQ(run("baseline --data x.csv --out o.h5 --pyramid 2y").status, 2);
}

// `train --fold F/K` fixes K: a different --folds is refused (it used to be silently overridden).
TEST(CliConventions, TrainFoldsAndFoldMustAgree) {
  const Result r = run("train --data x.csv --features x.h5 --out m.h5 --fold 1/5 --folds 3");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "--folds 3 and --fold 1/5 disagree")) << r.output;
}

// The torch-free executable lists the CNN commands without loading libtorch; a missing CNN
// module is one line naming the file (ISHANNOT_CNN_MODULE points at a file that is not there).
TEST(CliConventions, MissingCnnModuleIsOneLineNamingTheFile) {
  const Result r = run("classify --help");  // whatever the build: usable (0) or refused in one line
  if (r.status != 0) {
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_TRUE(contains(r.output, "libishannot_cnn_cli.so")) << r.output;
  }
  setenv("ISHANNOT_CNN_MODULE", "/nonexistent/libishannot_cnn_cli.so", 1);
  const Result missing = run("classify x.jpg");
  unsetenv("ISHANNOT_CNN_MODULE");
  EXPECT_EQ(missing.status, 1) << missing.output;
  EXPECT_TRUE(contains(missing.output,
                       "/nonexistent/libishannot_cnn_cli.so: the CNN module is "
                       "missing"))
      << missing.output;
  EXPECT_EQ(std::count(missing.output.begin(), missing.output.end(), '\n'), 1) << missing.output;
}

// Commands that need no network never load libtorch (its load cost 0.9 s per process): the
// dynamic loader's own log (LD_DEBUG=files) names every library a run opens.
TEST(CliConventions, TorchFreeCommandsDoNotLoadLibtorch) {
  for (const std::string args : {"--version", "--help", "dataset --help", "train --help"}) {
    SCOPED_TRACE(args);
    const std::string command =
        "LD_DEBUG=files " + ishannot::test::ishannot_binary() + " " + args + " 2>&1";
    Result r;
    FILE* pipe = popen(command.c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    std::array<char, 4096> buffer;
    size_t n = 0;
    while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
      r.output.append(buffer.data(), n);
    r.status = pclose(pipe);
    EXPECT_TRUE(contains(r.output, "file=libc.so")) << "LD_DEBUG gave no log";
    EXPECT_FALSE(contains(r.output, "libtorch")) << r.output.substr(0, 2000);
    // --version is answered by the launcher alone (apps/ishannot/main.cpp); the rest load the
    // command line's library.
    EXPECT_EQ(contains(r.output, "libishannot_cli.so"), args != "--version")
        << r.output.substr(0, 2000);
  }
}
