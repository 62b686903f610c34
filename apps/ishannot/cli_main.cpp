// ishannot's command line (the executable, apps/ishannot/main.cpp, loads this library and calls
// ishannot_cli_main): annotate Drosophila ISH images with anatomical CV terms (Zhang et al., KDD
// 2015). Exit codes: 0 ok, 1 runtime/data error, 2 usage error. Errors: one line on stderr.
#include <charconv>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>

#include "cnn_module.h"
#include "commands.h"
#include "ishannot/common/error.h"
#include "ishannot/version.h"
#include "options.h"
#include "usage.h"

namespace {

using namespace ishannot::cli;

// The command line as a shell would take it back (provenance).
std::string quoted_command_line(int argc, char** argv) {
  std::string line = "ishannot";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool plain = !arg.empty() && arg.find_first_not_of(
                                           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                           "0123456789-_./=:,+@%") == std::string::npos;
    if (plain) {
      line += " " + arg;
      continue;
    }
    std::string q = "'";
    for (char c : arg) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    line += " " + q + "'";
  }
  return line;
}

// The first word that is not an option (or a global option's value): the subcommand. CLI11 would
// otherwise print the main help for `ishannot predict --help` and exit 0.
std::string subcommand_word(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--threads" || arg == "--seed" || arg == "--progress") {
      ++i;  // its value
      continue;
    }
    if (!arg.empty() && arg[0] == '-') continue;
    return arg;
  }
  return "";
}

// Errors are one line (README: exit codes and messages).
std::string first_line(const std::string& text) {
  const size_t end = text.find_first_of("\r\n");
  return end == std::string::npos ? text : text.substr(0, end);
}

uint64_t parse_seed(const std::string& text) {
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size())
    throw UsageError("--seed '" + text + "': expected an integer in 0.." +
                     std::to_string(UINT64_MAX));
  return value;
}

}  // namespace

extern "C" __attribute__((visibility("default"))) int ishannot_cli_main(int argc, char** argv) {
  CLI::App app{"ishannot " ISHANNOT_VERSION
               ": annotate Drosophila ISH images with anatomical CV terms"};
  app.formatter(std::make_shared<WrappingFormatter>());
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("ishannot ") + ISHANNOT_VERSION);
  GlobalOptions options;
  options.command_line = quoted_command_line(argc, argv);
  std::string seed_text = std::to_string(options.seed);
  app.add_option("--threads", options.threads, "CPU threads (0 = every CPU this process may use)")
      ->check(CLI::Range(0, 4096))
      ->capture_default_str();
  app.add_option("--seed", seed_text, "seed for every random choice (0..2^64-1)")
      ->capture_default_str();
  app.add_flag("--quiet,-q", options.quiet, "no progress, no info lines");
  app.add_option("--progress", options.progress, "progress display: auto|bar|plain|none")
      ->check(CLI::IsMember({"auto", "bar", "plain", "none"}))
      ->capture_default_str();
  app.fallthrough();
  // Usage errors on one line, like every other error (exit code 2).
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return "ishannot: error: " + first_line(e.what()) + " (--help for the options)\n";
  });
  // The seed is parsed (range-checked) before any subcommand callback runs.
  app.parse_complete_callback([&] { options.seed = parse_seed(seed_text); });

  // --help lists the commands in the order of the work (README): try it, look at the data, make
  // features, evaluate, report, the whole study, then annotate one's own images. The CNN
  // commands are listed from their table; the one being run comes from the CNN module
  // (cnn_module.h), which only then loads libtorch.
  const std::string word = subcommand_word(argc, argv);
  const auto add_cnn = [&](const std::string& name) {
    if (name == word)
      cnn_module().add_command(app, options, name);
    else if (cnn_module_available())
      app.add_subcommand(name, cnn_command_description(name));
  };
  try {
    add_cnn("demo");
    add_cnn("classify");
    add_fetch_command(app, options);
    add_standardize_command(app, options);
    add_dataset_command(app, options);
    add_synth_command(app, options);
#ifdef ISHANNOT_HAVE_INFER
    add_extract_command(app, options);
#endif
    add_merge_command(app, options);
    add_baseline_command(app, options);
    add_cnn("finetune");
    add_evaluate_command(app, options);
    add_report_command(app, options);
    add_experiment_command(app, options);
    add_train_command(app, options);
    add_annotate_command(app, options);
    add_inspect_command(app, options);
    add_cnn("export");
  } catch (const std::exception& e) {
    std::cerr << "ishannot: error: " << first_line(e.what()) << "\n";
    return 1;
  }

  std::string known;
  const CLI::App* command = nullptr;
  for (const auto* sub : app.get_subcommands({})) {
    known += " " + sub->get_name();
    if (sub->get_name() == word) command = sub;
  }
  if (!word.empty() && !command) {
    std::cerr << "ishannot: error: unknown subcommand '" << word << "'; known:" << known
              << " (ishannot --help)\n";
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // An unknown option is named first, with the closest known one (also when it hid a
    // required option: `-data` for `--data`).
    const std::string unknown = e.get_exit_code() == 0
                                    ? std::string()
                                    : unknown_option_message(app.remaining(true), app, command);
    if (unknown.empty()) return app.exit(e) == 0 ? 0 : 2;
    std::cerr << "ishannot: error: " << unknown << "\n";
    return 2;
  } catch (const UsageError& e) {
    std::cerr << "ishannot: error: " << first_line(e.what()) << "\n";
    return 2;
  } catch (const std::filesystem::filesystem_error& e) {
    // A file-system call that was not given its own message: "PATH: reason", not the raw text.
    std::cerr << "ishannot: error: " << e.path1().string() << ": " << e.code().message() << "\n";
    return 1;
  } catch (const std::exception& e) {
    // One line, whatever threw (libtorch appends a stack trace to its messages).
    std::cerr << "ishannot: error: " << first_line(e.what()) << "\n";
    return 1;
  }
  return 0;
}
