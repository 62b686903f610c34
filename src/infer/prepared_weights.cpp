// The prepared-weights cache, torch-free side (include/ishannot/infer/prepared_weights.h).
#include "ishannot/infer/prepared_weights.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "infer/plan_weights.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/common/sha256.h"

namespace ishannot {

namespace fs = std::filesystem;

namespace {

constexpr char kMagic[8] = {'I', 'S', 'H', 'N', 'P', 'R', 'E', 'P'};
// 2: the payload checked by fast_hash, not SHA-256. 3: each tensor by its own fast_hash, so that
// a run checks (and touches) only the tensors it uses: ~35 of the 102 MB up to res4f.
constexpr uint32_t kCacheVersion = 3;
constexpr size_t kAlign = 64;

size_t aligned(size_t n) {
  return (n + kAlign - 1) / kAlign * kAlign;
}

// The files whose bytes make the weights: a TF.js model.json and everything beside it, or the one
// file; each as "name<TAB>size<TAB>mtime_ns".
std::string fingerprint(const std::string& weights_path) {
  std::error_code ec;
  const fs::path source = fs::weakly_canonical(weights_path, ec);
  std::vector<fs::path> files;
  const bool folder = fs::is_directory(source, ec);
  if (folder || source.extension() == ".json") {
    for (fs::directory_iterator it(folder ? source : source.parent_path(), ec), end;
         !ec && it != end; it.increment(ec))
      if (it->is_regular_file(ec)) files.push_back(it->path());
    std::sort(files.begin(), files.end());
  } else {
    files.push_back(source);
  }
  std::string text = source.string() + "\n";
  for (const auto& f : files) {
    struct stat st {};
    if (stat(f.c_str(), &st) != 0) continue;
    text += f.filename().string() + "\t" + std::to_string(st.st_size) + "\t" +
            std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + "\n";
  }
  return sha256_bytes(text);
}

std::string key_file(const std::string& dir, const std::string& weights_path) {
  return dir + "/" + fingerprint(weights_path) + ".key";
}

// A read-only view of a file, copy-on-write if written (fine-tuning trains the mapped weights).
// Not MAP_POPULATE: populating a writable private mapping copies every page (load 0.17 s -> 0.07 s
// without it, 98 MB); pages come from the page cache as they are read, and only the pages that
// fine-tuning writes are copied. Cache files are replaced by rename, never rewritten in place.
struct Mapping {
  void* data = MAP_FAILED;
  size_t size = 0;
  ~Mapping() {
    if (data != MAP_FAILED) munmap(data, size);
  }
};

std::shared_ptr<Mapping> map_file(const std::string& path) {
  auto m = std::make_shared<Mapping>();
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return nullptr;
  struct stat st {};
  if (fstat(fd, &st) == 0 && st.st_size > 0) {
    m->size = static_cast<size_t>(st.st_size);
    m->data = mmap(nullptr, m->size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (m->data != MAP_FAILED) detail::advise_huge_pages(m->data, m->size);
  }
  close(fd);
  return m->data == MAP_FAILED ? nullptr : m;
}

// A tensor's integrity check: a 64-bit fast_hash (~8 GB/s once the pages are mapped; SHA-256
// took ~0.2 s of every start-up for the 98 MB payload), hex in the header. The weights' identity
// stays the source's SHA-256.
std::string tensor_hash(const void* data, size_t size) {
  return detail::hash_hex(detail::fast_hash(data, size));
}

// The prepared weights in `m`, or the reason they cannot be used ("stale: ..." / "corrupt: ...").
// A header field of the wrong type throws nlohmann's exception (read_cache turns it into a reason).
std::string read_cache_fields(const std::shared_ptr<Mapping>& m, const std::string& sha256,
                              const std::set<std::string>* only, PreparedWeights& out) {
  char* base = static_cast<char*>(m->data);
  uint32_t version = 0, header_bytes = 0;
  if (m->size < 16 || std::memcmp(base, kMagic, 8) != 0) return "corrupt: not a cache file";
  std::memcpy(&version, base + 8, 4);
  std::memcpy(&header_bytes, base + 12, 4);
  if (version != kCacheVersion)
    return "stale: format version " + std::to_string(version) + ", this build writes " +
           std::to_string(kCacheVersion);
  if (16 + static_cast<size_t>(header_bytes) > m->size) return "corrupt: truncated header";
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(std::string(base + 16, header_bytes));
  } catch (const std::exception&) {
    return "corrupt: header is not JSON";
  }
  if (header.value("arch", "") != "resnet50") return "stale: another backbone";
  if (header.value("source_sha256", "") != sha256) return "stale: made from other weights";
  const size_t start = aligned(16 + header_bytes);
  const size_t payload = header.value("payload_bytes", size_t{0});
  if (start + payload != m->size) return "corrupt: size differs from its header";
  char* data = base + start;
  out.sha256 = sha256;
  out.keep = m;
  for (const auto& t : header.at("tensors")) {
    const auto shape = t.at("shape").get<std::vector<int64_t>>();
    const size_t offset = t.at("offset").get<size_t>();
    // The element count, refused before it can overflow (a damaged header may say anything).
    const int64_t limit = static_cast<int64_t>(payload / 4);
    int64_t count = 1;
    bool bad = false;
    for (int64_t d : shape) {
      bad = bad || d < 0 || (d > 0 && count > limit / d);
      if (!bad) count *= d;
    }
    const size_t bytes = 4 * static_cast<size_t>(count);
    if (bad || offset % kAlign || offset > payload || bytes > payload - offset)
      return "corrupt: a tensor outside the payload";
    const std::string name = t.at("name").get<std::string>();
    if (only && !only->count(name)) continue;  // neither checked nor read: its pages stay unmapped
    const uint64_t hash = detail::fast_hash(data + offset, bytes);
    if (detail::hash_hex(hash) != t.at("hash").get<std::string>())
      return "corrupt: " + name + ": hash differs";
    out.tensors[name] = {shape, reinterpret_cast<float*>(data + offset), hash};
  }
  return "";
}

std::string read_cache(const std::shared_ptr<Mapping>& m, const std::string& sha256,
                       const std::set<std::string>* only, PreparedWeights& out) {
  try {
    return read_cache_fields(m, sha256, only, out);
  } catch (const nlohmann::json::exception& e) {
    return std::string("corrupt: a header field: ") + e.what();
  }
}

}  // namespace

std::string weights_cache_dir() {
  const char* env = std::getenv("ISHANNOT_WEIGHTS_CACHE");
  if (env && std::string(env) == "off") return "";
  if (env && *env) return env;
  return cache_dir() + "/prepared";
}

std::string prepared_resnet50_file(const std::string& dir, const std::string& sha256) {
  return dir + "/resnet50-" + sha256 + ".v" + std::to_string(kCacheVersion) + ".bin";
}

PreparedLookup find_prepared_resnet50(const std::string& weights_path, const std::string& dir,
                                      const std::set<std::string>* only) {
  PreparedLookup out;
  out.why = "no cache";
  std::error_code ec;
  if (dir.empty() || !fs::exists(weights_path, ec)) return out;
  const std::string key = key_file(dir, weights_path);
  std::string sha256;
  if (fs::exists(key, ec)) {
    std::ifstream in(key);
    std::getline(in, sha256);
  }
  if (sha256.size() != 64) return out;
  out.file = prepared_resnet50_file(dir, sha256);
  const auto m = map_file(out.file);
  if (!m) return out;
  PreparedWeights weights;
  out.why = read_cache(m, sha256, only, weights);
  if (!out.why.empty()) return out;
  // Named as this caller names it (load_weights' spelling), not as the cache's maker did.
  weights.path = fs::is_directory(weights_path, ec)
                     ? (fs::path(weights_path) / "model.json").string()
                     : weights_path;
  out.weights = std::move(weights);
  return out;
}

std::string write_prepared_resnet50(const PreparedWeights& weights, const std::string& weights_path,
                                    const std::string& dir) {
  nlohmann::json header = {
      {"arch", "resnet50"}, {"source_path", weights.path}, {"source_sha256", weights.sha256}};
  std::string payload;
  nlohmann::json tensors = nlohmann::json::array();
  for (const auto& [name, tensor] : weights.tensors) {
    int64_t count = 1;
    for (int64_t d : tensor.shape) count *= d;
    payload.resize(aligned(payload.size()), '\0');
    const size_t bytes = static_cast<size_t>(count) * sizeof(float);
    tensors.push_back({{"name", name},
                       {"shape", tensor.shape},
                       {"offset", payload.size()},
                       {"hash", tensor_hash(tensor.data, bytes)}});
    payload.append(reinterpret_cast<const char*>(tensor.data), bytes);
  }
  header["tensors"] = tensors;
  header["payload_bytes"] = payload.size();
  const std::string text = header.dump();
  std::string head(kMagic, 8);
  const uint32_t version = kCacheVersion, header_bytes = static_cast<uint32_t>(text.size());
  head.append(reinterpret_cast<const char*>(&version), 4);
  head.append(reinterpret_cast<const char*>(&header_bytes), 4);
  head += text;
  head.resize(aligned(head.size()), '\0');
  try {
    std::error_code ignored;
    fs::create_directories(dir, ignored);
    write_text_atomically(prepared_resnet50_file(dir, weights.sha256), head + payload);
    write_text_atomically(key_file(dir, weights_path), weights.sha256 + "\n");
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace ishannot
