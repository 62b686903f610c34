// Loading the CNN module (cnn_module.h): dlopen on first use, checks, the CNN command table.
#include "cnn_module.h"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "ishannot/common/assert.h"
#include "ishannot/common/error.h"
#ifdef ISHANNOT_HAVE_INFER
#include "ishannot/infer/annotate_source.h"
#endif
#include "ishannot/version.h"

namespace ishannot::cli {

const std::vector<CnnCommand>& cnn_commands() {
  static const std::vector<CnnCommand> commands = {
      {"classify", "ImageNet top-5 labels of photos (backbone sanity check)"},
      {"demo",
       "synthetic BDGP-shaped data -> ResNet50 features -> evaluation -> report (the main job)"},
      {"finetune",
       "multi-task fine-tuning (TL+MTL): backbone + shared hidden layer + one output per term of "
       "a stage range"},
      {"export", "a model bundle as one ONNX graph in a bioimage.io package (rdf.yaml)"},
  };
  return commands;
}

const char* cnn_command_description(const std::string& name) {
  for (const auto& command : cnn_commands())
    if (name == command.name) return command.description;
  ISHANNOT_ASSERT(false, "not a CNN command: " + name);
  return "";
}

std::string cnn_module_path() {
  if (const char* path = std::getenv("ISHANNOT_CNN_MODULE"); path && *path) return path;
  std::error_code error;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", error);
  const auto dir = error ? std::filesystem::current_path() : exe.parent_path();
  return (dir / "libishannot_cnn_cli.so").string();
}

bool cnn_module_available() {
  std::error_code error;
  return std::filesystem::is_regular_file(cnn_module_path(), error);
}

namespace {

const CnnModule* load_module() {
  const std::string path = cnn_module_path();
  if (!cnn_module_available())
    throw Error(path +
                ": the CNN module is missing: this build has no libtorch part (configure with "
                "-DISHANNOT_WITH_TORCH=ON), or give stored features (--features)");
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = dlerror();
    throw Error(path + ": cannot load the CNN module: " + (why ? why : "unknown reason"));
  }
  using Entry = const CnnModule* (*)();
  auto entry = reinterpret_cast<Entry>(dlsym(handle, "ishannot_cnn_module"));
  if (!entry) throw Error(path + ": not an ishannot CNN module (no ishannot_cnn_module)");
  const CnnModule* module = entry();
  if (!module || module->abi != kCnnModuleAbi || std::string(module->version) != ISHANNOT_VERSION)
    throw Error(path + ": the CNN module comes from another build (version " +
                (module && module->version ? module->version : "?") + ", this is " +
                ISHANNOT_VERSION + ")");
  return module;  // never unloaded: its objects live as long as the process
}

}  // namespace

const CnnModule& cnn_module() {
  static std::once_flag once;
  static const CnnModule* module = nullptr;
  std::call_once(once, [] { module = load_module(); });
  return *module;
}

void extract_recipe_features(const Dataset& dataset, const RecipeOptions& recipe,
                             const std::map<std::string, std::string>& attributes,
                             const std::string& store_path, bool resume,
                             const GlobalOptions& options, const Reporter& reporter) {
  cnn_module().extract_recipe_features(dataset, recipe, attributes, store_path, resume, options,
                                       reporter);
}

std::unique_ptr<FeatureSource> bundle_feature_source(const ModelBundle& bundle,
                                                     const std::string& weights,
                                                     Precision precision,
                                                     const GlobalOptions& options) {
#ifdef ISHANNOT_HAVE_INFER
  // The default ResNet50 with its prepared weights cached: no libtorch (infer/annotate_source.h).
  if (auto net = prepared_recipe_network(bundle.recipe, weights)) {
    reuse_freed_memory();  // per-batch buffers (commands.h)
    apply_threads(options);
    return recipe_feature_source(std::move(net), bundle.recipe, precision);
  }
#endif
  return cnn_module().bundle_feature_source(bundle, weights, precision, options);
}

}  // namespace ishannot::cli
