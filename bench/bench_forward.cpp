// Extraction throughput of ishannot's backbones (forward pass to the taps, batch B, no autograd),
// the FLOPs each image costs (counted from the architecture), and a large SGEMM (torch::mm, i.e.
// the BLAS libtorch is linked with). bench/bench_extract.sh runs it beside the Python peer.
//
//   ishannot_bench_forward ARCH WEIGHTS LAYERS BATCH REPEAT THREADS [ENGINE] [WxH]
// ENGINE: onednn (default: InferenceEngine, what `extract` runs), torch (the stage-by-stage
// Backbone::forward_taps in the backbone's default layout), torch-nchw, torch-nhwc.
// WxH: input size (default 224x224; bdgp-mini's native size is 320x128).
#include <sys/resource.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>

#include "ishannot/nets/backbone.h"
#include "ishannot/nets/inference.h"

using namespace ishannot;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Multiply-adds x 2 of every convolution and matrix product up to the last tap, from each conv's
// weight shape and its output size (one forward pass of one image tells the sizes).
double flops_per_image(Backbone& net, int last, int width, int height) {
  torch::NoGradGuard guard;
  double flops = 0;
  torch::Tensor x = torch::zeros({1, 3, height, width});
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
  if (argc < 7 || argc > 9) {
    std::fprintf(stderr,
                 "usage: %s ARCH WEIGHTS LAYERS BATCH REPEAT THREADS "
                 "[onednn|torch|torch-nchw|torch-nhwc] [WxH]\n",
                 argv[0]);
    return 2;
  }
  const std::string arch = argv[1], weights = argv[2], layers = argv[3];
  const int batch = std::atoi(argv[4]), repeat = std::atoi(argv[5]), threads = std::atoi(argv[6]);
  const std::string engine_name = argc > 7 ? argv[7] : "onednn";
  int width = 224, height = 224;
  if (argc > 8 && std::sscanf(argv[8], "%dx%d", &width, &height) != 2) {
    std::fprintf(stderr, "bad size %s (WxH)\n", argv[8]);
    return 2;
  }
  torch::set_num_threads(threads);
  auto net = load_backbone(arch, weights);
  net->eval();
  if (engine_name == "torch-nchw" || engine_name == "torch-nhwc")
    net->use_channels_last(engine_name == "torch-nhwc");
  const auto taps = net->resolve_layers(layers);
  const double flops = flops_per_image(*net, taps.back(), width, height);
  torch::InferenceMode guard;
  InferenceEngine engine(*net, taps, /*compile=*/engine_name == "onednn");
  torch::manual_seed(1);
  torch::Tensor x = torch::randn({batch, 3, height, width}) * 50;
  engine.forward(x);  // warm-up (oneDNN primitive creation)
  const auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < repeat; ++r) engine.forward(x);
  const double s = seconds_since(t0);
  const double ips = batch * repeat / s;
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  const std::string layout =
      engine_name != "onednn" ? (net->channels_last() ? "nhwc" : "nchw") : "onednn-blocked";
  std::printf(
      "{\"arch\": \"%s\", \"engine\": \"%s\", \"layout\": \"%s\", \"size\": \"%dx%d\", "
      "\"layers\": \"%s\", \"batch\": %d, \"threads\": %d, \"images_per_s\": %.3f, "
      "\"gflop_per_image\": %.3f, \"gflops\": %.1f, \"sgemm_gflops\": %.1f, "
      "\"peak_rss_mb\": %.0f}\n",
      arch.c_str(), engine_name.c_str(), layout.c_str(), width, height, layers.c_str(), batch,
      threads, ips, flops / 1e9, ips * flops / 1e9, sgemm_gflops(), usage.ru_maxrss / 1024.0);
  return 0;
}
