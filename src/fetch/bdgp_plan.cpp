// fetch bdgp: parameters, BDGP's URL layout, and which images of the tables to fetch.
#include <algorithm>
#include <set>

#include "ishannot/common/error.h"
#include "ishannot/fetch/bdgp_fetch.h"
#include "ishannot/version.h"

namespace ishannot {

std::string BdgpFetchParams::check() const {
  if (meta.empty()) return "--meta: the BDGP table folder is required";
  if (out.empty()) return "--out: the output folder is required";
  if (base_url.rfind("http://", 0) != 0 && base_url.rfind("https://", 0) != 0)
    return "--base-url '" + base_url + "': expected an http:// or https:// URL";
  if (views != "lateral" && views != "all")
    return "--views '" + views + "': expected lateral or all";
  if (limit < 0) return "--limit must be >= 0 (0 = no limit)";
  if (parallel < 1 || parallel > 16) return "--parallel must be in 1..16";
  if (!(rate > 0) || rate > 1000) return "--rate must be in (0, 1000] requests per second";
  if (retries < 0 || retries > 20) return "--retries must be in 0..20";
  if (!(backoff_seconds >= 0) || backoff_seconds > 300) return "--backoff must be in 0..300 s";
  if (!(timeout_seconds > 0) || timeout_seconds > 3600) return "--timeout must be in (0, 3600] s";
  if (!(connect_timeout_seconds > 0)) return "the connect timeout must be > 0";
  return "";
}

std::string bdgp_user_agent() {
  return std::string("ishannot/") + ISHANNOT_VERSION +
         " (Drosophila ISH annotation; fetch bdgp; libcurl)";
}

FetchItem bdgp_fetch_item(const std::string& base_url, int64_t number) {
  std::string base = base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  FetchItem item;
  item.number = number;
  item.image = "insitu" + std::to_string(number);
  const std::string dir = "img_dir_" + std::to_string(number / 1000);
  item.url = base + "/" + dir + "/" + item.image + ".jpe";
  item.file = "images/" + dir + "/" + item.image + ".jpe";
  return item;
}

namespace {

int64_t image_number(const std::string& id, const std::string& source) {
  const std::string digits = id.rfind("insitu", 0) == 0 ? id.substr(6) : "";
  const bool ok =
      !digits.empty() && digits.size() <= 12 &&
      std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!ok) throw file_error(source, "image id '" + id + "' is not BDGP's insitu<digits>");
  return std::stoll(digits);
}

}  // namespace

std::vector<FetchItem> plan_bdgp_fetch(const Dataset& tables, const BdgpFetchParams& params) {
  const std::set<std::string> stages(params.stages.begin(), params.stages.end());
  const std::set<std::string> genes(params.genes.begin(), params.genes.end());
  std::vector<FetchItem> items;
  std::set<int64_t> seen;
  for (const auto& im : tables.images) {
    if (!stages.empty() && !stages.count(im.stage_range)) continue;
    if (!genes.empty() && !genes.count(im.gene)) continue;
    if (params.views == "lateral" && im.view != "lateral") continue;
    const int64_t number = image_number(im.id, tables.source);
    if (!seen.insert(number).second) continue;
    items.push_back(bdgp_fetch_item(params.base_url, number));
    if (params.limit > 0 && static_cast<int64_t>(items.size()) >= params.limit) break;
  }
  return items;
}

}  // namespace ishannot
