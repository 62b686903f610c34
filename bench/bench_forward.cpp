// Extraction throughput of ishannot's backbones (forward pass to the taps, batch B, no autograd),
// the FLOPs each image costs (counted from the architecture), and a large SGEMM as this CPU's
// practical fp32 peak. bench/bench_extract.sh runs it beside the Python peer.
//
//   ishannot_bench_forward ARCH WEIGHTS LAYERS BATCH REPEAT THREADS
#include <sys/resource.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>

#include "ishannot/nets/backbone.h"

using namespace ishannot;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Multiply-adds x 2 of every convolution and matrix product up to the last tap, from each conv's
// weight shape and its output size (one forward pass of one image tells the sizes).
double flops_per_image(Backbone& net, int last) {
  torch::NoGradGuard guard;
  double flops = 0;
  torch::Tensor x = torch::zeros({1, 3, 224, 224});
  for (int i = 0; i <= last; ++i) {
    torch::Tensor y = net.forward_range(x, i, i);
    for (const auto& p : net.named_children()[static_cast<size_t>(i)].value()->named_parameters()) {
      if (p.key().find("weight") == std::string::npos) continue;
      const auto& w = p.value();
      if (w.dim() == 4) {
        // Every conv runs at its stage's output size: true for VGG16 convs and for Keras ResNet
        // blocks, whose stride sits on the first 1x1 conv (and the projection).
        flops += 2.0 * w.size(0) * w.size(1) * w.size(2) * w.size(3) * y.size(2) * y.size(3);
      } else if (w.dim() == 2) {
        flops += 2.0 * w.size(0) * w.size(1);
      }
    }
    x = y;
  }
  return flops;
}

double sgemm_gflops() {
  torch::Tensor a = torch::randn({2048, 2048}), b = torch::randn({2048, 2048});
  torch::mm(a, b);
  const auto t0 = std::chrono::steady_clock::now();
  const int reps = 10;
  for (int i = 0; i < reps; ++i) torch::mm(a, b);
  return reps * 2.0 * 2048.0 * 2048.0 * 2048.0 / seconds_since(t0) / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7 && argc != 8) {
    std::fprintf(stderr, "usage: %s ARCH WEIGHTS LAYERS BATCH REPEAT THREADS [nchw|nhwc]\n",
                 argv[0]);
    return 2;
  }
  const std::string arch = argv[1], weights = argv[2], layers = argv[3];
  const int batch = std::atoi(argv[4]), repeat = std::atoi(argv[5]), threads = std::atoi(argv[6]);
  torch::set_num_threads(threads);
  auto net = load_backbone(arch, weights);
  net->eval();
  const bool nhwc = argc == 8 && std::string(argv[7]) == "nhwc";
  net->use_channels_last(nhwc);
  const auto taps = net->resolve_layers(layers);
  const double flops = flops_per_image(*net, taps.back());
  torch::InferenceMode guard;
  torch::manual_seed(1);
  torch::Tensor x = torch::randn({batch, 3, 224, 224}) * 50;
  net->forward_taps(x, taps);  // warm-up (oneDNN primitive creation)
  const auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < repeat; ++r) net->forward_taps(x, taps);
  const double s = seconds_since(t0);
  const double ips = batch * repeat / s;
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  std::printf(
      "{\"arch\": \"%s\", \"layout\": \"%s\", \"layers\": \"%s\", \"batch\": %d, \"threads\": %d, "
      "\"images_per_s\": "
      "%.3f, "
      "\"gflop_per_image\": %.3f, \"gflops\": %.1f, \"sgemm_gflops\": %.1f, \"peak_rss_mb\": "
      "%.0f}\n",
      arch.c_str(), nhwc ? "nhwc" : "nchw", layers.c_str(), batch, threads, ips, flops / 1e9,
      ips * flops / 1e9, sgemm_gflops(), usage.ru_maxrss / 1024.0);
  return 0;
}
