// ishannot classify IMAGE...: ImageNet top-5 of the backbone, a sanity check of weights and
// preprocessing on real photos.
#include <torch/torch.h>

#include <cstdio>

#include "../cnn_module.h"
#include "cnn_commands.h"
#include "ishannot/image/image.h"
#include "ishannot/nets/backbone.h"

namespace ishannot::cli {

void add_classify_command(CLI::App& app, GlobalOptions& options) {
  struct Args {
    std::vector<std::string> images;
    std::string weights;
    int top = 5;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("classify", cnn_command_description("classify"));
  cmd->add_option("images", args->images, "image files")->required();
  cmd->add_option("--weights", args->weights, "ResNet50 weights (default: the setup's download)");
  cmd->add_option("--top", args->top, "labels per image")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->callback([args, &options] {
    configure_cnn_process(options);
    torch::InferenceMode inference;
    auto net = load_backbone("resnet50", args->weights);
    net->eval();
    const auto labels = imagenet_labels();
    const int fc = net->resolve_layer("fc1000");
    for (const std::string& path : args->images) {
      cv::Mat img = resize_for_network(read_image_bgr(path), 224, 224, ResizePolicy::kSquash);
      torch::Tensor probs = net->forward_taps(net->to_input({img}), {fc}).at(fc)[0];
      auto [values, indices] = probs.topk(args->top);
      std::printf("%s\n", path.c_str());
      for (int k = 0; k < args->top; ++k) {
        const int64_t idx = indices[k].item<int64_t>();
        std::printf("  %d. %-28s %.4f  (class %lld)\n", k + 1,
                    labels[static_cast<size_t>(idx)].c_str(), values[k].item<float>(),
                    static_cast<long long>(idx));
      }
    }
  });
}

}  // namespace ishannot::cli
