// --threads for the CNN commands: libtorch's intra-op pool as well as OpenMP.
#include <torch/torch.h>

#include "cnn_commands.h"

namespace ishannot::cli {

int apply_torch_threads(const GlobalOptions& options) {
  const int threads = apply_threads(options);
  // libtorch's own default is not the affinity mask (it was 1 on a 2-CPU VM): always set it.
  torch::set_num_threads(threads);
  return threads;
}

}  // namespace ishannot::cli
