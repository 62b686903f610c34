// `ishannot experiment`: the snakemake command it runs (checked word by word against the command
// written here by hand), its refusals, and, where Snakemake is installed, a dry run of the tiny
// study that lists every rule of the workflow.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>

#include "support/test_paths.h"

namespace {

struct Result {
  int status = -1;
  std::string output;
};

Result run(const std::string& command) {
  Result r;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buffer;
  size_t n = 0;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) r.output.append(buffer.data(), n);
  const int status = pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string absolute(const std::string& path) {
  return std::filesystem::canonical(path).string();
}

}  // namespace

TEST(ExperimentCli, RunsTheCheckoutsWorkflowWithSnakemake) {
  const std::string bin = ishannot::test::ishannot_binary();
  const std::string source = absolute(ishannot::test::source_dir());
  const std::string config = source + "/workflow/tiny.yaml";
  const std::string snakefile = source + "/workflow/Snakefile";
  const std::string self = absolute(bin);
  Result r = run(bin + " experiment --config " + config + " --out study --print-command");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "snakemake -s " + snakefile + " --configfile " + config +
                          " --config out='study' ishannot='" + self +
                          "' --rerun-incomplete --cores all\n");
  // Issue 22: the value is YAML to Snakemake: quoted, "007" stays a folder name (not 7).
  r = run(bin + " experiment --config " + config + " --out 007 --print-command");
  EXPECT_NE(r.output.find(" out='007' "), std::string::npos) << r.output;
  r = run(bin + " experiment --config " + config + " --out study --cores 3 -n --print-command -- " +
          "--forcerun evaluate");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find(" --rerun-incomplete --dry-run --cores 3 --forcerun evaluate\n"),
            std::string::npos)
      << r.output;
  r = run(bin + " experiment --config " + config + " --out study --profile " + source +
          "/workflow/profiles/slurm --print-command");
  EXPECT_NE(r.output.find(" --rerun-incomplete --profile " + source + "/workflow/profiles/slurm\n"),
            std::string::npos)
      << r.output;
  EXPECT_EQ(r.output.find("--cores"), std::string::npos) << "a profile sets its own job count";
  r = run(bin + " experiment --config " + config + " --out study --unlock --print-command");
  EXPECT_NE(r.output.find(" --unlock --cores all\n"), std::string::npos) << r.output;
}

TEST(ExperimentCli, Refusals) {
  const std::string bin = ishannot::test::ishannot_binary();
  const std::string dir = ishannot::test::temp_dir("experiment-refusals");
  Result r = run(bin + " experiment --config " + dir + "/none.yaml --out study");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_EQ(r.output, "ishannot: error: " + dir + "/none.yaml: no such config file\n");
  r = run(bin + " experiment --config " + ishannot::test::source_dir() +
          "/workflow/tiny.yaml --out study --snakefile " + dir + "/Snakefile");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find(dir + "/Snakefile: no workflow there"), std::string::npos) << r.output;
  EXPECT_EQ(run(bin + " experiment --out study").status, 2);  // --config is required
}

TEST(ExperimentCli, DryRunOfTheTinyStudyListsEveryRule) {
  if (std::system("command -v snakemake > /dev/null 2>&1") != 0)
    GTEST_SKIP() << "snakemake is not installed (scripts/setup.sh installs it)";
  const std::string bin = ishannot::test::ishannot_binary();
  const std::string dir = ishannot::test::temp_dir("experiment-dry-run");
  const std::string config = absolute(ishannot::test::source_dir()) + "/workflow/tiny.yaml";
  // In a temp folder: Snakemake keeps its state (.snakemake/) in the folder it runs in.
  const Result r = run("cd " + dir + " && " + bin + " experiment --config " + config +
                       " --out study -n -- --quiet rules");
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* rule : {"synth", "extract_tl", "merge_tl", "finetune", "extract_tl_mtl",
                           "merge_tl_mtl", "baseline", "evaluate", "summary"})
    EXPECT_NE(r.output.find(std::string("\n") + rule + " "), std::string::npos) << rule << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir + "/study")) << "a dry run writes no output";
}
