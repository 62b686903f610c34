// ishannot, the executable: a launcher. `ishannot --version` is answered here, before anything is
// loaded (workflows probe it before every job: ~1 ms instead of the ~0.06 s the dynamic loader
// spends on the command line's libraries: OpenCV's core, HDF5, oneDNN, ~75 in all); for
// everything else it first sets malloc's huge pages (huge_pages.h: one more start of this small
// executable), then runs libishannot_cli.so beside the executable (cli_main.cpp), loaded here
// with dlopen, which loads the CNN module in turn only when a command needs a network
// (cnn_module.h). Exit codes and messages are the library's; a library that cannot be loaded is
// one line and exit 1.
#include <dlfcn.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "huge_pages.h"
#include "ishannot/version.h"

namespace {

// The folder of the running executable (symbolic links resolved), with a trailing '/'.
std::string executable_dir(const char* argv0) {
  char self[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  const std::string path = n > 0 ? std::string(self, static_cast<size_t>(n)) : std::string(argv0);
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string("./") : path.substr(0, slash + 1);
}

// The kernel's THP mode (huge_pages.h), or "" when it cannot be read.
std::string thp_mode() {
  FILE* f = std::fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
  if (!f) return "";
  char mode[128] = "";
  if (!std::fgets(mode, sizeof mode, f)) mode[0] = '\0';
  std::fclose(f);
  return mode;
}

// Huge pages for malloc (huge_pages.h): the first start sets the tunable and executes itself
// again; the second puts the user's GLIBC_TUNABLES back for the processes it runs.
void use_huge_pages(char** argv) {
  using namespace ishannot::cli;
  if (const char* saved = std::getenv(kSavedTunables)) {
    bool unset = true;
    const std::string original = original_tunables(saved, &unset);
    if (unset)
      unsetenv("GLIBC_TUNABLES");
    else
      setenv("GLIBC_TUNABLES", original.c_str(), 1);
    unsetenv(kSavedTunables);
    return;
  }
#if defined(__SANITIZE_ADDRESS__)
  return;  // ASan's allocator replaces glibc's malloc: the tunable would change nothing
#endif
  const std::string mode = thp_mode();
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  const HugePagesPlan plan = plan_huge_pages(std::getenv("ISHANNOT_HUGE_PAGES"), tunables,
                                             mode.empty() ? nullptr : mode.c_str());
  if (!plan.restart) return;
  const std::string original = tunables ? tunables : "";
  setenv(kSavedTunables, plan.saved.c_str(), 1);
  setenv("GLIBC_TUNABLES", plan.tunables.c_str(), 1);
  execv("/proc/self/exe", argv);
  // Not executed (no /proc?): go on as we are, with the environment as it was.
  if (tunables)
    setenv("GLIBC_TUNABLES", original.c_str(), 1);
  else
    unsetenv("GLIBC_TUNABLES");
  unsetenv(kSavedTunables);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "--version") == 0) {
    std::printf("ishannot %s\n", ISHANNOT_VERSION);
    return 0;
  }
  use_huge_pages(argv);
  const std::string library = executable_dir(argv[0]) + ISHANNOT_CLI_LIBRARY;
  void* handle = dlopen(library.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (!handle) {
    std::fprintf(stderr, "ishannot: error: %s: cannot load the command line library (%s)\n",
                 library.c_str(), dlerror());
    return 1;
  }
  using Main = int (*)(int, char**);
  const auto cli_main = reinterpret_cast<Main>(dlsym(handle, "ishannot_cli_main"));
  if (!cli_main) {
    std::fprintf(stderr, "ishannot: error: %s: no ishannot_cli_main (another build's library?)\n",
                 library.c_str());
    return 1;
  }
  return cli_main(argc, argv);
}
