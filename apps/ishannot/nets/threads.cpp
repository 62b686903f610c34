// --threads for the CNN commands: libtorch's intra-op pool (and OpenMP through it).
#include <torch/torch.h>

#include "../commands.h"

namespace ishannot::cli {

void apply_torch_threads(const GlobalOptions& options) {
  apply_threads(options);
  if (options.threads > 0) torch::set_num_threads(options.threads);
}

}  // namespace ishannot::cli
