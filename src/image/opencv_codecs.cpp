// Formats other than PNG and JPEG: OpenCV's imgcodecs through libishannot_imgcodecs.so, loaded
// with dlopen on first need (codecs.h).
#include <dlfcn.h>

#include <cstdlib>
#include <string>

#include "codecs.h"
#include "ishannot/common/error.h"
#include "opencv_codecs_module.h"

namespace ishannot::detail {
namespace {

const char kAnchor = 0;  // an object of this library, to find the folder it was loaded from

std::string module_path() {
  if (const char* path = std::getenv("ISHANNOT_IMGCODECS_MODULE"); path && *path) return path;
  Dl_info info{};
  std::string dir = ".";
  if (dladdr(&kAnchor, &info) && info.dli_fname) {
    const std::string self = info.dli_fname;
    const size_t slash = self.rfind('/');
    if (slash != std::string::npos) dir = self.substr(0, slash);
  }
  return dir + "/libishannot_imgcodecs.so";
}

// The loaded module, or the reason it could not be loaded (then every later call reports it).
struct Loaded {
  const ImgcodecsModule* module = nullptr;
  std::string problem;
};

Loaded load() {
  const std::string path = module_path();
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = dlerror();
    return {nullptr, path + ": OpenCV's codecs cannot be loaded (" +
                         std::string(why ? why : "unknown reason") + ")"};
  }
  using Entry = const ImgcodecsModule* (*)();
  const auto entry = reinterpret_cast<Entry>(dlsym(handle, "ishannot_imgcodecs"));
  const ImgcodecsModule* module = entry ? entry() : nullptr;
  if (!module || module->abi != kImgcodecsModuleAbi || !module->decode)
    return {nullptr, path + ": not this build's codecs module"};
  return {module, ""};  // never unloaded: the Mats it made may outlive any scope
}

}  // namespace

cv::Mat decode_with_opencv(const std::string& path, const std::vector<unsigned char>& bytes) {
  static const Loaded loaded = load();
  if (!loaded.module)
    throw file_error(path,
                     "needs OpenCV's image codecs (not a PNG, nor a 1- or 3-channel JPEG), and " +
                         loaded.problem);
  cv::Mat image;
  char message[512] = "";
  if (!loaded.module->decode(bytes.data(), bytes.size(), &image, message, sizeof message))
    throw file_error(path, std::string("cannot be decoded: ") + message);
  return image;
}

}  // namespace ishannot::detail
