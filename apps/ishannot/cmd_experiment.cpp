// `ishannot experiment --config FILE --out DIR`: the paper's whole study (workflow/Snakefile) for
// users who do not know Snakemake. It runs
//   snakemake -s SNAKEFILE --configfile FILE --config out=DIR ishannot=THIS_BINARY
//             --rerun-incomplete (--cores N | --profile P) [-n] [EXTRA...]
// in place of this process, so the exit code, the progress and a Ctrl-C are Snakemake's. A rerun
// after an interruption continues where it stopped (docs/WORKFLOW.md).
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "commands.h"
#include "ishannot/common/error.h"
#include "options.h"

namespace ishannot::cli {

namespace {

struct ExperimentOptions {
  std::string config, out, snakefile, profile;
  int cores = 0;
  bool dry_run = false, unlock = false, print_only = false;
  std::vector<std::string> snakemake_args;  ///< after --
};

// A YAML single-quoted scalar: read back as this very string, whatever it looks like.
std::string yaml_quoted(const std::string& value) {
  std::string out = "'";
  for (char c : value) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

// The workflow: --snakefile, else $ISHANNOT_WORKFLOW, else the checkout this binary was built from.
std::string snakefile_path(const ExperimentOptions& o) {
  if (!o.snakefile.empty()) return o.snakefile;
  if (const char* dir = std::getenv("ISHANNOT_WORKFLOW"); dir && *dir)
    return std::string(dir) + "/Snakefile";
  return ISHANNOT_WORKFLOW_DIR "/Snakefile";
}

std::vector<std::string> snakemake_command(const ExperimentOptions& o) {
  const std::string snakefile = snakefile_path(o);
  if (!std::filesystem::exists(snakefile))
    throw file_error(snakefile, "no workflow there (give --snakefile or set ISHANNOT_WORKFLOW)");
  if (!std::filesystem::exists(o.config)) throw file_error(o.config, "no such config file");
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  // Snakemake reads each --config value as YAML ("007" would become the number 7): quoted.
  std::vector<std::string> command = {"snakemake",
                                      "-s",
                                      snakefile,
                                      "--configfile",
                                      o.config,
                                      "--config",
                                      "out=" + yaml_quoted(o.out),
                                      "ishannot=" + yaml_quoted(self)};
  if (o.unlock) {
    command.push_back("--unlock");
  } else {
    command.push_back("--rerun-incomplete");
    if (o.dry_run) command.push_back("--dry-run");
  }
  if (!o.profile.empty()) {
    command.insert(command.end(), {"--profile", o.profile});
  } else {
    command.insert(command.end(), {"--cores", o.cores > 0 ? std::to_string(o.cores) : "all"});
  }
  command.insert(command.end(), o.snakemake_args.begin(), o.snakemake_args.end());
  return command;
}

[[noreturn]] void run_snakemake(const std::vector<std::string>& command) {
  std::vector<char*> argv;
  for (const auto& word : command) argv.push_back(const_cast<char*>(word.c_str()));
  argv.push_back(nullptr);
  std::cout.flush();
  ::execvp(argv[0], argv.data());
  throw Error("cannot run snakemake (" + std::string(std::strerror(errno)) +
              "): install it (Debian package 'snakemake', scripts/setup.sh does)");
}

}  // namespace

void add_experiment_command(CLI::App& app, GlobalOptions& /*options*/) {
  auto o = std::make_shared<ExperimentOptions>();
  auto* cmd = app.add_subcommand(
      "experiment",
      "the paper's whole study (TL layers, TL+MTL per fold, SC, evaluation) as a Snakemake "
      "workflow; arguments after -- go to snakemake");
  cmd->add_option("--config", o->config, "workflow config (e.g. workflow/config.yaml)")->required();
  add_out_option(cmd, o->out, "output folder of the study");
  cmd->add_option("--cores", o->cores, "CPU cores for local jobs (0 = all)")
      ->check(CLI::Range(0, 4096))
      ->capture_default_str();
  cmd->add_option("--profile", o->profile,
                  "Snakemake profile, e.g. workflow/profiles/slurm (jobs go to the cluster)");
  cmd->add_option("--snakefile", o->snakefile,
                  "the workflow (default: $ISHANNOT_WORKFLOW/Snakefile, else " ISHANNOT_WORKFLOW_DIR
                  "/Snakefile)");
  cmd->add_flag("--dry-run,-n", o->dry_run, "list the jobs that would run");
  cmd->add_flag("--unlock", o->unlock, "release the lock a killed run left (then rerun)");
  cmd->add_flag("--print-command", o->print_only, "print the snakemake command, do not run it");
  cmd->add_option("snakemake_args", o->snakemake_args,
                  "more snakemake arguments, after --, e.g. -- --forceall");
  cmd->callback([o] {
    const auto command = snakemake_command(*o);
    if (o->print_only) {
      for (size_t i = 0; i < command.size(); ++i) std::cout << (i ? " " : "") << command[i];
      std::cout << "\n";
      return;
    }
    run_snakemake(command);
  });
}

}  // namespace ishannot::cli
