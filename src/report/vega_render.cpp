// Vega-Lite specs to SVG through Node.js (report/vega_render.h).
#include "ishannot/report/vega_render.h"

#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"
#include "report/child_process.h"
#include "report_assets.h"

namespace ishannot {
namespace fs = std::filesystem;

namespace {

const char* const kSetupHint = "run scripts/setup.sh (it installs Node.js and fetches vega)";

}  // namespace

VegaRuntime find_vega_runtime(const std::string& dir) {
  VegaRuntime runtime;
  runtime.node = detail::find_program("node");
  if (runtime.node.empty())
    throw Error(std::string("node (Node.js) not found on PATH: `ishannot report` renders its "
                            "figures with it; ") +
                kSetupHint);
  runtime.dir = dir.empty() ? cache_dir() + "/vega" : dir;
  for (const char* name : {"vega", "vega-lite", "vega-embed"})
    if (!fs::is_regular_file(runtime.bundle(name)))
      throw file_error(runtime.bundle(name),
                       std::string("missing (the report's plotting library); ") + kSetupHint);
  const std::string versions = runtime.dir + "/versions.json";
  if (fs::is_regular_file(versions)) {
    const auto json = nlohmann::json::parse(read_text_file(versions), nullptr, false);
    if (json.is_object())
      for (const auto& [name, version] : json.items())
        if (version.is_string()) runtime.versions[name] = version.get<std::string>();
  }
  return runtime;
}

std::vector<std::string> render_svgs(const VegaRuntime& runtime,
                                     const std::vector<RenderJob>& jobs) {
  if (jobs.empty()) return {};
  // The renderer script and the job list go to a private temporary folder.
  std::string pattern = (fs::temp_directory_path() / "ishannot-render-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) throw Error("cannot create a temporary folder for the renderer");
  const std::string work = pattern;
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{work};
  const std::string script = work + "/render_figures.js", list = work + "/jobs.json";
  write_text_atomically(script, detail::assets::render_figures_js);
  nlohmann::json json = nlohmann::json::array();
  for (const auto& job : jobs)
    json.push_back({{"id", job.id}, {"spec", job.spec_path}, {"svg", job.svg_path}});
  write_text_atomically(list, json.dump());

  const auto result = detail::run_child({runtime.node, script, runtime.dir, list});
  if (result.exit_code != 0) {
    std::string message = result.err;
    while (!message.empty() && (message.back() == '\n' || message.back() == '\r'))
      message.pop_back();
    for (char& c : message)
      if (c == '\n') c = ';';
    throw Error("rendering the figures with " + runtime.node + " failed (exit " +
                std::to_string(result.exit_code) + "): " + message);
  }
  std::vector<std::string> warnings;
  const auto answer = nlohmann::json::parse(result.out, nullptr, false);
  if (answer.is_object() && answer.contains("warnings"))
    for (const auto& w : answer["warnings"])
      if (w.is_string()) warnings.push_back(w.get<std::string>());
  return warnings;
}

}  // namespace ishannot
