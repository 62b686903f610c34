#pragma once
// Helpers for the tests of `ishannot export` (tests/onnx, tests/apps/nets): ONNX Runtime for
// Node.js as scripts/setup.sh installs it, run through tests/onnx/run_onnx.js, and the package
// checker tests/onnx/check_rdf.py (python3-yaml + python3-jsonschema).
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ishannot/common/fs_util.h"
#include "support/cli_util.h"
#include "support/test_paths.h"

namespace ishannot::test {

/// node_modules holding onnxruntime-node (scripts/setup.sh), or "" when it is missing.
inline std::string onnxruntime_node_modules() {
  const std::string dir = cache_dir() + "/onnxruntime-1.22.0/node_modules";
  return std::filesystem::exists(dir + "/onnxruntime-node/package.json") ? dir : "";
}

/// Every output of MODEL on the .npy INPUT, by ONNX Runtime: name -> (dims, values). Empty with
/// `error` set when the run failed.
inline std::map<std::string, std::pair<std::vector<int64_t>, std::vector<double>>> run_onnx(
    const std::string& model, const std::string& input, std::string* error) {
  const std::string out = model + ".ort.json";
  const std::string command = "NODE_PATH='" + onnxruntime_node_modules() + "' node '" +
                              source_dir() + "/tests/onnx/run_onnx.js' '" + model + "' '" + input +
                              "' > '" + out + "' 2> '" + out + ".err'";
  std::map<std::string, std::pair<std::vector<int64_t>, std::vector<double>>> result;
  if (run_status(command) != 0) {
    *error = read_text_file(out + ".err");
    return result;
  }
  const auto j = nlohmann::json::parse(read_text_file(out));
  for (const auto& [name, v] : j.items())
    result[name] = {v["dims"].get<std::vector<int64_t>>(), v["data"].get<std::vector<double>>()};
  return result;
}

/// Runs tests/onnx/check_rdf.py on a package; its output (problems, then a count) in `report`.
inline int check_package(const std::string& dir, std::string* report) {
  const std::string out = dir + ".check.txt";
  const int status = run_status(
      "python3 '" + source_dir() + "/tests/onnx/check_rdf.py' '" + dir + "' '" + source_dir() +
      "/tests/fixtures/bioimageio/bioimageio_schema_model_0.5.json' > '" + out + "' 2>&1");
  *report = read_text_file(out);
  return status;
}

}  // namespace ishannot::test

#define ISHANNOT_SKIP_WITHOUT_ONNXRUNTIME()                                              \
  do {                                                                                   \
    if (ishannot::test::onnxruntime_node_modules().empty())                              \
      GTEST_SKIP() << "onnxruntime-node not found in the cache (run scripts/setup.sh): " \
                      "skipping the ONNX Runtime check";                                 \
  } while (0)
