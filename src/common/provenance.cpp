#include "ishannot/common/provenance.h"

#include <algorithm>

#include "ishannot/common/error.h"
#include "ishannot/version.h"

namespace ishannot {

std::string Provenance::version() const {
  return tool_version.empty() ? std::string(ISHANNOT_VERSION) : tool_version;
}

Provenance& Provenance::add_input(const std::string& role, const std::string& path,
                                  const std::string& sha256) {
  inputs.erase(std::remove_if(inputs.begin(), inputs.end(),
                              [&](const ProvenanceInput& in) { return in.role == role; }),
               inputs.end());
  inputs.push_back({role, path, sha256});
  return *this;
}

std::map<std::string, std::string> Provenance::entries() const {
  if (auto problem = check(); !problem.empty()) throw Error("provenance: " + problem);
  std::map<std::string, std::string> out = {{"tool_version", version()},
                                            {"created_by", command_line}};
  if (seed) out["seed"] = std::to_string(*seed);
  for (const auto& in : inputs) {
    out[in.role] = in.path;
    if (!in.sha256.empty()) out[in.role + "_sha256"] = in.sha256;
  }
  for (const auto& [key, value] : extra) out[key] = value;
  return out;
}

std::string Provenance::check() const {
  std::vector<std::string> standard = {"tool_version", "created_by", "seed"};
  for (const auto& in : inputs) {
    if (in.role.empty()) return "an input (" + in.path + ") has no role";
    standard.push_back(in.role);
    standard.push_back(in.role + "_sha256");
  }
  for (const auto& [key, value] : extra)
    if (std::find(standard.begin(), standard.end(), key) != standard.end())
      return "extra key '" + key + "' would overwrite a standard one";
  return "";
}

}  // namespace ishannot
