// Process settings of the CNN commands: --threads for libtorch's intra-op pool as well as
// OpenMP, and a heap that keeps the per-batch buffers.
#include <malloc.h>
#include <torch/torch.h>

#include "cnn_commands.h"

namespace ishannot::cli {

namespace {

// A CNN command allocates and frees a few MB per batch (the input batch, the feature maps, the
// rows to write), in three threads. With glibc's defaults such blocks are mapped and unmapped,
// or trimmed off the heap, at every batch, and each reuse faults its pages in again: 279k page
// faults and ~3 s of system time extracting 2,000 images with 2 threads (73k and ~1.3 s kept;
// docs/BENCHMARKS.md). Blocks under 32 MB (glibc's largest mmap threshold) now stay in the heap,
// and up to 256 MB of free heap is kept instead of returned; peak RSS rose ~3 %.
void keep_batch_buffers_in_heap() {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

}  // namespace

int configure_cnn_process(const GlobalOptions& options) {
  keep_batch_buffers_in_heap();
  const int threads = apply_threads(options);
  // libtorch's own default is not the affinity mask (it was 1 on a 2-CPU VM): always set it.
  torch::set_num_threads(threads);
  return threads;
}

}  // namespace ishannot::cli
