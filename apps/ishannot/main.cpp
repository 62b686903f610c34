// ishannot: annotate Drosophila ISH images with anatomical CV terms (Zhang et al., KDD 2015).
// Exit codes: 0 ok, 1 runtime/data error, 2 usage error. Errors: one line on stderr.
#include <cstdio>
#include <exception>
#include <iostream>

#include "commands.h"
#include "ishannot/error.h"
#include "ishannot/version.h"

int main(int argc, char** argv) {
  using namespace ishannot::cli;
  CLI::App app{"ishannot " ISHANNOT_VERSION
               ": annotate Drosophila ISH images with anatomical CV terms"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("ishannot ") + ISHANNOT_VERSION);
  GlobalOptions options;
  app.add_option("--threads", options.threads, "CPU threads (0 = all cores)")
      ->capture_default_str();
  app.add_option("--seed", options.seed, "seed for every random choice")->capture_default_str();
  app.add_flag("--quiet,-q", options.quiet, "no progress, no info lines");
  app.add_option("--progress", options.progress, "progress display: auto|bar|plain|none")
      ->check(CLI::IsMember({"auto", "bar", "plain", "none"}))
      ->capture_default_str();
  app.fallthrough();

#ifdef ISHANNOT_WITH_TORCH
  add_classify_command(app, options);
  add_extract_command(app, options);
#endif
  add_synth_command(app, options);
  add_dataset_command(app, options);
  add_evaluate_command(app, options);
#ifdef ISHANNOT_WITH_TORCH
  add_demo_command(app, options);
#endif
  add_baseline_command(app, options);
#ifdef ISHANNOT_WITH_TORCH
  add_finetune_command(app, options);
#endif

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  } catch (const ishannot::Error& e) {
    std::cerr << "ishannot: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "ishannot: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
