#pragma once
// Rendering Vega-Lite specs to SVG headless: Node.js runs the minified vega and vega-lite bundles
// (no browser, no canvas package) with a small script built into the binary
// (src/report/assets/render_figures.js, embedded at build time). scripts/setup.sh fetches the
// bundles, checksum-verified, into CACHE/vega (cache_dir(): $ISHANNOT_HOME or ~/.cache/ishannot).
#include <map>
#include <string>
#include <vector>

namespace ishannot {

/// Where the renderer's pieces are.
struct VegaRuntime {
  std::string node;                             ///< full path of the node executable
  std::string dir;                              ///< folder with vega/vega-lite/vega-embed .min.js
  std::map<std::string, std::string> versions;  ///< package -> version (dir/versions.json)

  /// Path of one bundle: dir/NAME.min.js (NAME = vega, vega-lite, vega-embed).
  std::string bundle(const std::string& name) const { return dir + "/" + name + ".min.js"; }
};

/// Finds `node` on PATH and the bundles in `dir` ("" = cache_dir()/vega). Throws Error — one line
/// saying to run scripts/setup.sh — when node or a bundle is missing.
VegaRuntime find_vega_runtime(const std::string& dir = "");

/// One figure to render.
struct RenderJob {
  std::string id;         ///< figure id (for messages)
  std::string spec_path;  ///< Vega-Lite spec (JSON, data inlined)
  std::string svg_path;   ///< where the SVG goes (written atomically)
};

/// Renders every job with one Node process. Returns Vega's warnings ("ID: text"). Throws Error
/// naming the failed figures (and Node's message) when one fails.
std::vector<std::string> render_svgs(const VegaRuntime& runtime,
                                     const std::vector<RenderJob>& jobs);

}  // namespace ishannot
