#pragma once
// Internal: the convolution weights of OnednnPlans in the layouts their primitives chose, shared
// by every plan of one InferenceEngine and kept on disk between processes.
//
// A plan's convolution wants its weights in a layout oneDNN picks for the shape (blocked OIhw16i16o
// for direct convolutions; Winograd's transformed tiles for 3x3 ones, whose reorder alone costs
// ~0.5 s for ResNet50 up to res4f on one core). PlanWeights reorders a convolution's plain OIHW
// float32 weights into such a layout once:
//  - in memory: a later plan (another batch size) whose convolution wants the same layout of the
//    same weights gets the same buffer;
//  - on disk (when a folder is given): <dir>/<key>.bin, where the key hashes the plain weights'
//    bytes and shape, the layout (oneDNN's memory descriptor), oneDNN's version and the CPU ISA
//    it dispatches to. A file is used only when its magic, format version, descriptor, size and
//    payload checksum are as expected; otherwise it is stale or corrupt, and the weights are
//    reordered again and the file rewritten (temporary name, then rename). Files are
//    memory-mapped read-only; one that cannot be written (read-only folder, full disk) is
//    skipped. Changing the weights (fine-tuning) changes the key: nothing stale is ever read.
#include <cstdint>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <vector>

namespace ishannot::detail {

class PlanWeights {
 public:
  /// What happened to the layouts asked for so far (tests and benchmarks read it).
  struct Stats {
    int reused = 0;     ///< served from memory (an earlier plan of this engine)
    int loaded = 0;     ///< served from a file on disk
    int reordered = 0;  ///< reordered from the plain weights (no file, or a bad one)
    int rejected = 0;   ///< files found stale or corrupt (then reordered and rewritten)
    int written = 0;    ///< files written
  };

  /// `dir`: the folder of the layout files; "" keeps them in memory only. `max_bytes`: the
  /// folder's budget: before a file is written, the least recently written files are removed
  /// until it fits (fine-tuned or other weights each add a set; nothing else prunes them).
  explicit PlanWeights(std::string dir, uint64_t max_bytes = kDefaultMaxBytes);

  static constexpr uint64_t kDefaultMaxBytes = uint64_t{1} << 30;  ///< 1 GiB
  ~PlanWeights();
  PlanWeights(const PlanWeights&) = delete;
  PlanWeights& operator=(const PlanWeights&) = delete;

  /// The weights `plain` (float32, contiguous, `dims` = O, I, H, W) in layout `desc` on `engine`.
  /// `plain_hash`: fast_hash(plain) where the caller has it (the prepared cache checked it), so
  /// that a layout on disk is found without reading `plain`; 0: computed here. The memory stays
  /// valid as long as this object.
  dnnl::memory get(const float* plain, uint64_t plain_hash, const dnnl::memory::dims& dims,
                   const dnnl::memory::desc& desc, const dnnl::engine& engine);

  const Stats& stats() const { return stats_; }

 private:
  struct Entry;
  std::string dir_;
  uint64_t max_bytes_;
  std::vector<Entry> entries_;
  Stats stats_;
};

/// A 64-bit hash of `size` bytes (not cryptographic: a cache key and a checksum), ~10 GB/s.
uint64_t fast_hash(const void* data, size_t size, uint64_t seed = 0);

/// A hash as 16 lowercase hex digits (file names, cache headers).
std::string hash_hex(uint64_t hash);

/// Asks the kernel for 2 MB pages for the mapping of a weights cache file (madvise
/// MADV_HUGEPAGE; advice only, nothing where transparent huge pages are off): a file read from
/// disk into such a mapping enters the page cache as 2 MB folios (ext4 has them since Linux 6.16),
/// and every later mapping of it takes 2 MB pages, each touched once instead of 512 4 KB pages.
/// On the project's VMs (shadow paging) a 4 KB page's first touch in a process costs ~2 us,
/// ~0.5 ms per MB (a 97 MB file: 47-50 ms; 4-7 ms in 2 MB pages), and an extract up to res4f
/// touches ~120 MB of weights (35 MB prepared, the rest layouts) (docs/BENCHMARKS.md, stop 29).
void advise_huge_pages(void* data, size_t size);

}  // namespace ishannot::detail
