// ishannot, the executable: a launcher. `ishannot --version` is answered here, before anything is
// loaded (workflows probe it before every job: ~1 ms instead of the ~0.3 s the dynamic loader
// spends on the command line's libraries — OpenCV, HDF5, GDAL through OpenCV's codecs, ~150 in
// all); everything else runs in libishannot_cli.so beside the executable (cli_main.cpp), loaded
// here with dlopen, which loads the CNN module in turn only when a command needs a network
// (cnn_module.h). Exit codes and messages are the library's; a library that cannot be loaded is
// one line and exit 1.
#include <dlfcn.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstring>
#include <string>

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

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "--version") == 0) {
    std::printf("ishannot %s\n", ISHANNOT_VERSION);
    return 0;
  }
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
