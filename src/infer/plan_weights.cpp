// PlanWeights (infer/plan_weights.h): reordered convolution weights, shared in memory and kept on
// disk.
#include "infer/plan_weights.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace ishannot::detail {

namespace fs = std::filesystem;
using dnnl::memory;

namespace {

constexpr char kMagic[8] = {'I', 'S', 'H', 'N', 'L', 'A', 'Y', 'T'};
constexpr uint32_t kLayoutVersion = 1;
constexpr size_t kHeaderFixed = 32;  // magic, version, descriptor size, payload size, checksum

size_t payload_offset() {
  return (kHeaderFixed + sizeof(dnnl_memory_desc_t) + 63) / 64 * 64;
}

uint64_t rotl(uint64_t x, int r) {
  return (x << r) | (x >> (64 - r));
}

uint64_t mix(uint64_t h) {  // murmur3's finaliser
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  return h ^ (h >> 33);
}

}  // namespace

void advise_huge_pages(void* data, size_t size) {
  madvise(data, size, MADV_HUGEPAGE);
}

std::string hash_hex(uint64_t hash) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

uint64_t fast_hash(const void* data, size_t size, uint64_t seed) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  uint64_t lane[4] = {seed ^ 0x9E3779B97F4A7C15ULL, seed + 0xC2B2AE3D27D4EB4FULL,
                      seed * 0x165667B19E3779F9ULL + 1, ~seed};
  size_t i = 0;
  for (; i + 32 <= size; i += 32) {
    for (int k = 0; k < 4; ++k) {
      uint64_t w;
      std::memcpy(&w, bytes + i + 8 * k, 8);
      lane[k] = rotl((lane[k] ^ w) * 0x9FB21C651E98DF25ULL, 29 + 2 * k);
    }
  }
  for (int k = 0; i + 8 <= size; i += 8, ++k) {  // up to three whole words left
    uint64_t w;
    std::memcpy(&w, bytes + i, 8);
    lane[k] = rotl((lane[k] ^ w) * 0x9FB21C651E98DF25ULL, 23);
  }
  uint64_t tail = 0;  // fewer than 8 bytes left
  for (size_t k = 0; i + k < size; ++k) tail |= static_cast<uint64_t>(bytes[i + k]) << (8 * k);
  uint64_t h = mix(lane[0]) ^ rotl(mix(lane[1]), 17) ^ rotl(mix(lane[2]), 31) ^
               rotl(mix(lane[3]), 47) ^ mix(tail + size);
  return mix(h);
}

struct PlanWeights::Entry {
  uint64_t plain_key = 0;
  memory::desc desc;
  memory weights;
  std::shared_ptr<void> mapping;  // the file `weights` points into, if any
};

PlanWeights::PlanWeights(std::string dir, uint64_t max_bytes)
    : dir_(std::move(dir)), max_bytes_(max_bytes) {}
PlanWeights::~PlanWeights() = default;

namespace {

// The file's payload when its header says it holds exactly `desc`, else nullptr (and `bad` when a
// file was there).
std::shared_ptr<void> map_layout(const std::string& path, const memory::desc& desc, bool& bad,
                                 const void** payload) {
  bad = false;
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return nullptr;
  struct stat st {};
  const size_t want = payload_offset() + desc.get_size();
  if (fstat(fd, &st) != 0 || static_cast<size_t>(st.st_size) != want) {
    close(fd);
    bad = true;
    return nullptr;
  }
  // Not MAP_POPULATE: it would fault the pages in before the advice (and populating costs as
  // much as touching on these VMs: 137 ms for 143 MB, measured).
  void* data = mmap(nullptr, want, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (data == MAP_FAILED) {
    bad = true;
    return nullptr;
  }
  advise_huge_pages(data, want);
  std::shared_ptr<void> mapping(data, [want](void* p) { munmap(p, want); });
  const auto* bytes = static_cast<const unsigned char*>(data);
  uint32_t version = 0, desc_size = 0;
  uint64_t payload_size = 0, checksum = 0;
  std::memcpy(&version, bytes + 8, 4);
  std::memcpy(&desc_size, bytes + 12, 4);
  std::memcpy(&payload_size, bytes + 16, 8);
  std::memcpy(&checksum, bytes + 24, 8);
  dnnl_memory_desc_t stored;
  std::memcpy(&stored, bytes + kHeaderFixed, sizeof stored);
  const void* body = bytes + payload_offset();
  if (std::memcmp(bytes, kMagic, 8) != 0 || version != kLayoutVersion ||
      desc_size != sizeof(dnnl_memory_desc_t) || payload_size != desc.get_size() ||
      !dnnl_memory_desc_equal(&stored, &desc.data) || fast_hash(body, payload_size) != checksum) {
    bad = true;
    return nullptr;
  }
  *payload = body;
  return mapping;
}

// Removes the oldest layout files of `dir` until `incoming` more bytes fit in `budget`.
void make_room(const std::string& dir, uint64_t incoming, uint64_t budget) {
  std::error_code ec;
  std::vector<std::pair<fs::file_time_type, fs::path>> files;
  uint64_t total = 0;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() != ".bin") continue;
    std::error_code e;
    total += it->file_size(e);
    files.emplace_back(it->last_write_time(e), it->path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& [when, path] : files) {
    if (total + incoming <= budget) break;
    std::error_code e;
    const uint64_t size = fs::file_size(path, e);
    if (fs::remove(path, e)) total -= size;
  }
}

bool write_layout(const std::string& path, const memory::desc& desc, const void* payload,
                  uint64_t budget) {
  const size_t size = desc.get_size();
  if (payload_offset() + size > budget) return false;
  make_room(fs::path(path).parent_path().string(), payload_offset() + size, budget);
  std::string header(payload_offset(), '\0');
  const uint32_t version = kLayoutVersion, desc_size = sizeof(dnnl_memory_desc_t);
  const uint64_t payload_size = size, checksum = fast_hash(payload, size);
  std::memcpy(header.data(), kMagic, 8);
  std::memcpy(header.data() + 8, &version, 4);
  std::memcpy(header.data() + 12, &desc_size, 4);
  std::memcpy(header.data() + 16, &payload_size, 8);
  std::memcpy(header.data() + 24, &checksum, 8);
  std::memcpy(header.data() + kHeaderFixed, &desc.data, sizeof(dnnl_memory_desc_t));
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  const std::string temporary = path + ".tmp" + std::to_string(getpid());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    out.write(static_cast<const char*>(payload), static_cast<std::streamsize>(size));
    if (!out.flush()) {
      out.close();
      fs::remove(temporary, ec);
      return false;
    }
  }
  fs::rename(temporary, path, ec);
  if (ec) fs::remove(temporary, ec);
  return !ec;
}

}  // namespace

memory PlanWeights::get(const float* plain, uint64_t plain_hash, const memory::dims& dims,
                        const memory::desc& desc, const dnnl::engine& engine) {
  size_t count = 1;
  for (auto d : dims) count *= static_cast<size_t>(d);
  uint64_t plain_key = plain_hash != 0 ? plain_hash : fast_hash(plain, count * sizeof(float));
  plain_key = fast_hash(dims.data(), dims.size() * sizeof(dims[0]), plain_key);
  for (const Entry& e : entries_)
    if (e.plain_key == plain_key && e.desc == desc) {
      ++stats_.reused;
      return e.weights;
    }
  Entry entry;
  entry.plain_key = plain_key;
  entry.desc = desc;
  std::string path;
  if (!dir_.empty()) {
    const dnnl_version_t* v = dnnl_version();
    const std::string build = std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                              std::to_string(v->patch) + " " + (v->hash ? v->hash : "") + " " +
                              std::to_string(static_cast<int>(dnnl::get_effective_cpu_isa()));
    uint64_t key = fast_hash(&desc.data, sizeof(dnnl_memory_desc_t), plain_key);
    key = fast_hash(build.data(), build.size(), key);
    path = dir_ + "/" + hash_hex(key) + ".bin";
    bool bad = false;
    const void* payload = nullptr;
    if (auto mapping = map_layout(path, desc, bad, &payload)) {
      entry.weights = memory(desc, engine, const_cast<void*>(payload));  // read only by oneDNN
      entry.mapping = std::move(mapping);
      ++stats_.loaded;
      entries_.push_back(entry);
      return entry.weights;
    }
    if (bad) ++stats_.rejected;
  }
  memory source(memory::desc(dims, memory::data_type::f32, memory::format_tag::oihw), engine,
                const_cast<float*>(plain));
  entry.weights = memory(desc, engine);
  dnnl::stream stream(engine);
  dnnl::reorder(source, entry.weights).execute(stream, source, entry.weights);
  stream.wait();
  ++stats_.reordered;
  if (!path.empty() && write_layout(path, desc, entry.weights.get_data_handle(), max_bytes_))
    ++stats_.written;
  entries_.push_back(entry);
  return entry.weights;
}

}  // namespace ishannot::detail
