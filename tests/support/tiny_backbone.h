#pragma once
// A tiny backbone for fine-tuning tests: conv1 (3->4) pool1 conv2 (4->6) conv3 (6->8), random
// weights from a seed, torchvision-style preprocessing (inputs of order 1). Runs in microseconds.
#include <torch/torch.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "ishannot/data/dataset.h"
#include "ishannot/nets/backbone.h"
#include "nets/stages.h"

namespace ishannot::test {

class TinyBackbone : public Backbone {
 public:
  explicit TinyBackbone(uint64_t seed) : Backbone("tiny", PixelPreprocessing::torchvision()) {
    torch::manual_seed(seed);
    auto conv = [](int64_t in, int64_t out) {
      return std::make_shared<ishannot::detail::ConvStage>(torch::randn({out, in, 3, 3}) * 0.4,
                                                           torch::randn({out}) * 0.1, 1, 1, true);
    };
    add_stage("conv1", 0, conv(3, 4));
    add_stage("pool1", 0, std::make_shared<ishannot::detail::MaxPoolStage>(2, 2, 0));
    add_stage("conv2", 0, conv(4, 6));
    add_stage("conv3", 0, conv(6, 8));
  }
};

/// `genes` genes x `per_gene` random 16x16 PNG images in `dir`, stage range 4-6; gene g carries
/// terms chosen so that every term has positives in several genes.
inline Dataset tiny_dataset(const std::string& dir, int genes, int per_gene, uint64_t seed) {
  Dataset d;
  d.source = dir + "/tiny";
  cv::RNG rng(seed);
  const std::vector<std::string> terms = {"term_a", "term_b", "term_c"};
  for (int g = 0; g < genes; ++g) {
    for (int i = 0; i < per_gene; ++i) {
      ImageRecord r;
      r.gene = "gene" + std::to_string(g);
      r.id = r.gene + "_" + std::to_string(i);
      r.path = dir + "/" + r.id + ".png";
      r.stage_range = "4-6";
      r.view = "lateral";
      for (size_t t = 0; t < terms.size(); ++t)
        if ((g + static_cast<int>(t)) % 2 == 0 || (g % 3 == static_cast<int>(t)))
          r.terms.push_back(terms[t]);
      cv::Mat img(16, 16, CV_8UC3);
      rng.fill(img, cv::RNG::UNIFORM, 0, 256);
      // A label-dependent blob so that the task is learnable.
      if (!r.terms.empty() && r.terms[0] == "term_a")
        cv::rectangle(img, {2, 2}, {7, 7}, {40, 0, 90}, -1);
      cv::imwrite(r.path, img);
      d.images.push_back(r);
    }
  }
  return d;
}

}  // namespace ishannot::test
