// Where the time of `ishannot extract` goes, step by step, run one after the other (no overlap)
// on the images of a manifest: process start-up (weights read + BatchNorm folding), the input-size
// check (a forward pass of a zero image), decoding, resize + preprocessing, the forward pass
// (oneDNN plan and, for comparison, the stage-by-stage torch path, each stage timed), rows, and
// the HDF5 write.
//
//   ishannot_extract_breakdown MANIFEST LAYERS BATCH THREADS [WxH|native] [WEIGHTS]
// Prints one JSON line of seconds.
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "ishannot/data/dataset.h"
#include "ishannot/features/feature_store.h"
#include "ishannot/image/image.h"
#include "ishannot/nets/backbone.h"
#include "ishannot/nets/inference.h"

using namespace ishannot;
using Clock = std::chrono::steady_clock;

namespace {
double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 5 || argc > 7) {
    std::fprintf(stderr, "usage: %s MANIFEST LAYERS BATCH THREADS [WxH|native] [WEIGHTS]\n",
                 argv[0]);
    return 2;
  }
  const std::string manifest = argv[1], layers = argv[2];
  const int batch = std::atoi(argv[3]), threads = std::atoi(argv[4]);
  const std::string size = argc > 5 ? argv[5] : "native", weights = argc > 6 ? argv[6] : "";
  torch::set_num_threads(threads);

  auto t0 = Clock::now();
  auto net = load_backbone("resnet50", weights);
  net->eval();
  const double load_s = since(t0);
  const Dataset data = read_manifest(manifest);
  const auto taps = net->resolve_layers(layers);
  torch::InferenceMode inference;

  t0 = Clock::now();
  std::vector<cv::Mat> decoded;
  for (const auto& r : data.images) decoded.push_back(read_image_bgr(r.path));
  const double decode_s = since(t0);
  int width = decoded[0].cols, height = decoded[0].rows;
  ResizePolicy policy = ResizePolicy::kNative;
  if (size != "native") parse_input_size(size, &width, &height, &policy);

  t0 = Clock::now();
  net->layer_shapes(width, height, taps.back());
  const double shapes_s = since(t0);

  t0 = Clock::now();
  std::vector<torch::Tensor> inputs;
  for (size_t b = 0; b < decoded.size(); b += static_cast<size_t>(batch)) {
    std::vector<cv::Mat> images;
    for (size_t i = b; i < std::min(decoded.size(), b + static_cast<size_t>(batch)); ++i)
      images.push_back(resize_for_network(decoded[i], width, height, policy));
    inputs.push_back(net->to_input(images));
  }
  const double preprocess_s = since(t0);

  InferenceEngine engine(*net, taps);
  t0 = Clock::now();
  std::vector<std::map<int, torch::Tensor>> outputs;
  for (const auto& x : inputs) outputs.push_back(engine.forward(x));
  const double onednn_s = since(t0);

  // The torch path, stage by stage, every batch.
  std::vector<double> stage_s(static_cast<size_t>(taps.back() + 1), 0.0);
  t0 = Clock::now();
  for (const auto& x : inputs) {
    torch::Tensor y = x;
    for (int i = 0; i <= taps.back(); ++i) {
      const auto s0 = Clock::now();
      y = net->forward_range(y, i, i);
      stage_s[static_cast<size_t>(i)] += since(s0);
    }
  }
  const double torch_s = since(t0);

  const std::string out = std::filesystem::temp_directory_path() / "ishannot_breakdown.h5";
  std::vector<LayerSpec> specs;
  for (int t : taps) {
    const auto& o = outputs[0].at(t);
    specs.push_back({net->layers()[static_cast<size_t>(t)].name, o[0].numel(), ""});
  }
  t0 = Clock::now();
  {
    FeatureStoreWriter writer(out, specs, FeatureDtype::kFloat32, {});
    size_t row = 0;
    for (const auto& o : outputs) {
      std::vector<std::string> ids;
      const int64_t n = o.begin()->second.size(0);
      for (int64_t i = 0; i < n; ++i) ids.push_back(data.images[row++].id);
      std::map<std::string, const float*> ptrs;
      for (int t : taps)
        ptrs[net->layers()[static_cast<size_t>(t)].name] = o.at(t).data_ptr<float>();
      writer.append(ids, ptrs);
    }
    writer.close();
  }
  const double write_s = since(t0);
  std::filesystem::remove(out);

  std::printf(
      "{\"images\": %zu, \"size\": \"%dx%d\", \"batch\": %d, \"threads\": %d, \"load_weights_s\": "
      "%.3f, \"decode_s\": %.3f, \"layer_shapes_s\": %.3f, \"resize_preprocess_s\": %.3f, "
      "\"forward_onednn_s\": %.3f, \"forward_torch_s\": %.3f, \"hdf5_write_s\": %.3f, "
      "\"torch_stages_s\": {",
      data.images.size(), width, height, batch, threads, load_s, decode_s, shapes_s, preprocess_s,
      onednn_s, torch_s, write_s);
  for (int i = 0; i <= taps.back(); ++i)
    std::printf("%s\"%s\": %.3f", i ? ", " : "", net->layers()[static_cast<size_t>(i)].name.c_str(),
                stage_s[static_cast<size_t>(i)]);
  std::printf("}}\n");
  return 0;
}
