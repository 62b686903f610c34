// Process settings of the CNN commands: --threads for libtorch's intra-op pool as well as
// OpenMP, and a heap that keeps freed blocks for reuse (reuse_freed_memory, commands.h).
#include <torch/torch.h>

#include "cnn_commands.h"

namespace ishannot::cli {

int configure_cnn_process(const GlobalOptions& options) {
  reuse_freed_memory();  // per-batch buffers (commands.h)
  const int threads = apply_threads(options);
  // libtorch's own default is not the affinity mask (it was 1 on a 2-CPU VM): always set it.
  torch::set_num_threads(threads);
  return threads;
}

}  // namespace ishannot::cli
