// fetch_bdgp: what is already on disk (fetched.tsv and final files), the downloads, and the
// output tables (fetched.tsv, failed.tsv, images.csv).
#include "ishannot/fetch/bdgp_fetch.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "detail/csv.h"
#include "fetch/http_batch.h"
#include "ishannot/common/error.h"
#include "ishannot/common/format.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/data/bdgp.h"

namespace fs = std::filesystem;

namespace ishannot {

namespace {

constexpr const char* kFetchedHeader = "image\tfile\tbytes\tsha256\turl\n";

struct Fetched {
  std::string file;
  int64_t bytes = 0;
  std::string sha256, url;
};

// fetched.tsv as a killed run may leave it: a torn last line (or any malformed one) is ignored,
// and its file is then hashed again.
std::map<std::string, Fetched> read_fetched(const std::string& path) {
  std::map<std::string, Fetched> rows;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const auto cells = detail::split(line, '\t');
    if (cells.size() != 5 || cells[0] == "image" || cells[3].size() != 64) continue;
    try {
      rows[cells[0]] = {cells[1], std::stoll(cells[2]), cells[3], cells[4]};
    } catch (const std::exception&) {
      continue;
    }
  }
  return rows;
}

std::string fetched_line(const std::string& image, const Fetched& f) {
  return image + "\t" + f.file + "\t" + std::to_string(f.bytes) + "\t" + f.sha256 + "\t" + f.url +
         "\n";
}

void write_fetched(const std::string& path, const std::map<std::string, Fetched>& rows) {
  std::string text = kFetchedHeader;
  for (const auto& [image, f] : rows) text += fetched_line(image, f);
  write_text_atomically(path, text);
}

void write_failed(const std::string& path, const std::vector<FetchFailure>& failures) {
  std::string text = "image\turl\tattempts\treason\n";
  for (const auto& f : failures) {
    std::string reason = f.reason;
    for (char& c : reason)
      if (c == '\t' || c == '\n' || c == '\r') c = ' ';
    text += f.image + "\t" + f.url + "\t" + std::to_string(f.attempts) + "\t" + reason + "\n";
  }
  write_text_atomically(path, text);
}

void check_genes(const Dataset& tables, const BdgpFetchParams& params) {
  std::set<std::string> known;
  for (const auto& im : tables.images) known.insert(im.gene);
  for (const auto& g : params.genes)
    if (!known.count(g))
      throw file_error(params.meta, "--genes: '" + g + "' has no image in these tables");
}

// Splits the plan into files kept from an earlier run (recorded in `log`) and downloads.
std::vector<size_t> files_to_download(const std::vector<FetchItem>& items, const std::string& out,
                                      std::map<std::string, Fetched>& log,
                                      BdgpFetchResult& result) {
  std::vector<size_t> todo;
  for (size_t i = 0; i < items.size(); ++i) {
    const FetchItem& item = items[i];
    const std::string path = out + "/" + item.file;
    std::error_code ec;
    fs::create_directories(fs::path(path).parent_path(), ec);
    if (ec) throw file_error(path, "cannot create its folder: " + ec.message());
    fs::remove(path + ".partial", ec);  // an interrupted transfer: redone
    const bool on_disk = fs::is_regular_file(path, ec);
    if (!on_disk) {
      log.erase(item.image);
      todo.push_back(i);
      continue;
    }
    const auto size = static_cast<int64_t>(fs::file_size(path, ec));
    auto it = log.find(item.image);
    if (it == log.end() || it->second.bytes != size || it->second.file != item.file)
      log[item.image] = {item.file, size, sha256_file(path), item.url};
    ++result.already_present;
  }
  return todo;
}

detail::HttpBatchParams http_params(const BdgpFetchParams& p) {
  detail::HttpBatchParams h;
  h.parallel = p.parallel;
  h.rate = p.rate;
  h.retries = p.retries;
  h.backoff_seconds = p.backoff_seconds;
  h.timeout_seconds = p.timeout_seconds;
  h.connect_timeout_seconds = p.connect_timeout_seconds;
  h.user_agent = p.user_agent.empty() ? bdgp_user_agent() : p.user_agent;
  return h;
}

void download(const std::vector<FetchItem>& items, const std::vector<size_t>& todo,
              const BdgpFetchParams& params, std::map<std::string, Fetched>& log,
              BdgpFetchResult& result, const Reporter& reporter) {
  const std::string log_path = params.out + "/fetched.tsv";
  write_fetched(log_path, log);  // what is on disk now, before appending
  FILE* append = std::fopen(log_path.c_str(), "a");
  if (!append) throw file_error(log_path, "cannot be opened for appending");
  std::vector<detail::HttpDownload> downloads;
  for (size_t i : todo) downloads.push_back({items[i].url, params.out + "/" + items[i].file});
  const auto total = static_cast<int64_t>(items.size());
  int64_t done = result.already_present;
  reporter.report("fetch", done, total);
  try {
    result.requests = detail::run_http_batch(
        downloads, http_params(params), [&](size_t k, const detail::HttpOutcome& outcome) {
          const FetchItem& item = items[todo[k]];
          if (outcome.ok) {
            const Fetched f{item.file, outcome.bytes, sha256_file(downloads[k].path), item.url};
            log[item.image] = f;
            const std::string line = fetched_line(item.image, f);
            if (std::fputs(line.c_str(), append) < 0 || std::fflush(append) != 0)
              throw file_error(log_path, "cannot be written (disk full?)");
            ++result.fetched;
            result.bytes += outcome.bytes;
          } else {
            result.failures.push_back({item.image, item.url, outcome.attempts, outcome.reason});
          }
          reporter.report("fetch", ++done, total);
        });
  } catch (...) {
    std::fclose(append);
    throw;
  }
  std::fclose(append);
}

// The tables' rows whose image is on disk, pointing at the files.
int64_t write_bdgp_manifest(const Dataset& tables, const BdgpFetchParams& params,
                            const std::map<std::string, Fetched>& log,
                            const std::string& manifest) {
  Dataset on_disk = tables;
  on_disk.images.clear();
  for (auto im : tables.images) {
    const auto it = log.find(im.id);
    if (it == log.end()) continue;
    im.path = params.out + "/" + it->second.file;
    on_disk.images.push_back(std::move(im));
  }
  write_manifest(on_disk, manifest);
  return static_cast<int64_t>(on_disk.images.size());
}

}  // namespace

BdgpFetchResult fetch_bdgp(const BdgpFetchParams& params, const Reporter& reporter) {
  if (const std::string problem = params.check(); !problem.empty()) throw Error(problem);
  const auto start = std::chrono::steady_clock::now();
  const Dataset tables = read_bdgp_tables(params.meta);
  check_genes(tables, params);
  const std::vector<FetchItem> items = plan_bdgp_fetch(tables, params);
  if (items.empty())
    throw file_error(params.meta, "no image matches the selection (--stages, --views, --genes)");
  std::error_code ec;
  fs::create_directories(params.out, ec);
  if (ec) throw file_error(params.out, "cannot create the output folder: " + ec.message());
  BdgpFetchResult result;
  result.planned = static_cast<int64_t>(items.size());
  std::map<std::string, Fetched> log = read_fetched(params.out + "/fetched.tsv");
  const std::vector<size_t> todo = files_to_download(items, params.out, log, result);
  if (result.already_present > 0)
    reporter.info("fetch: " + std::to_string(result.already_present) + " of " +
                  std::to_string(result.planned) + " images are already in " + params.out +
                  " (kept)");
  download(items, todo, params, log, result, reporter);
  write_fetched(params.out + "/fetched.tsv", log);
  write_failed(params.out + "/failed.tsv", result.failures);
  result.manifest = params.out + "/images.csv";
  result.manifest_rows = write_bdgp_manifest(tables, params, log, result.manifest);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (result.fetched + result.already_present == 0)
    throw file_error(params.out + "/failed.tsv",
                     "nothing could be fetched: all " + std::to_string(result.planned) +
                         " images failed (first: " + result.failures.front().image + ": " +
                         result.failures.front().reason + ")");
  return result;
}

}  // namespace ishannot
