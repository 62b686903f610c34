#pragma once
// Helpers for tests that run the `ishannot` binary: a shell command's exit status, its stderr,
// a small synthetic manifest written here (no image files: evaluate only needs the ids), and
// whether python3-h5py (the independent writer of stores) is there.
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "ishannot/common/fs_util.h"
#include "support/test_paths.h"

namespace ishannot::test {

/// Exit status of a shell command (-1 when it did not exit normally, e.g. killed by a signal).
inline int run_status(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/// The binary with --quiet, ready for a subcommand.
inline std::string cli() {
  return ishannot_binary() + " --quiet ";
}

/// A manifest of `genes` genes x `per_gene` images per stage range (default 13-16; files need not
/// exist: evaluate only needs the ids). Ids gG_I (the first stage range) and sS_gG_I (stage range
/// S > 0 of `stages`); gene g carries term_a when g is even, term_b when g % 3 == 0, term_c when
/// g % 3 == 1, term_d when g % 4 == 1, so every term has positives and negatives in several genes.
inline std::string write_small_manifest(const std::string& dir, int genes = 12, int per_gene = 3,
                                        const std::vector<std::string>& stages = {"13-16"}) {
  std::string text = "image,gene,stage_range,terms\n";
  for (size_t s = 0; s < stages.size(); ++s)
    for (int g = 0; g < genes; ++g) {
      std::string terms;
      auto add = [&](bool on, const char* t) {
        if (on) terms += (terms.empty() ? "" : ";") + std::string(t);
      };
      add(g % 2 == 0, "term_a");
      add(g % 3 == 0, "term_b");
      add(g % 3 == 1, "term_c");
      add(g % 4 == 1, "term_d");
      const std::string prefix = s == 0 ? "" : "s" + std::to_string(s) + "_";
      for (int i = 0; i < per_gene; ++i)
        text += prefix + "g" + std::to_string(g) + "_" + std::to_string(i) + ".png,gene" +
                std::to_string(g) + "," + stages[s] + "," + terms + "\n";
    }
  const std::string path = dir + "/images.csv";
  std::ofstream(path) << text;
  return path;
}

inline bool have_python_h5py() {
  static const bool ok =
      std::system("/usr/bin/python3 -c 'import h5py, numpy' >/dev/null 2>&1") == 0;
  return ok;
}

/// Runs tests/support/write_h5py_store.py (python3-h5py): exit status.
inline int write_h5py_store(const std::string& out, const std::string& ids_form,
                            const std::string& manifest, const std::string& extra = "") {
  return run_status("/usr/bin/python3 " + source_dir() + "/tests/support/write_h5py_store.py " +
                    out + " " + ids_form + " " + manifest + " " + extra);
}

}  // namespace ishannot::test

#define ISHANNOT_SKIP_WITHOUT_H5PY()                                                  \
  do {                                                                                \
    if (!ishannot::test::have_python_h5py())                                          \
      GTEST_SKIP() << "python3-h5py (the independent store writer) is not installed " \
                      "(scripts/setup.sh installs it)";                               \
  } while (0)
