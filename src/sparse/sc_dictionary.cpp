// Dictionary learning for the SC baseline: descriptor sampling from training images.
#include <algorithm>
#include <exception>
#include <numeric>

#include "detail/parallel.h"
#include "detail/rng.h"
#include "ishannot/common/error.h"
#include "ishannot/image/image.h"
#include "ishannot/sparse/sc_baseline.h"

namespace ishannot {

std::string ScBaselineParams::check() const {
  for (const std::string& problem :
       {sift.check(), dictionary.check(), coding.check(), pyramid.check()}) {
    if (!problem.empty()) return problem;
  }
  if (poolings.empty()) return "SC baseline: no pooling given";
  for (size_t i = 0; i < poolings.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (poolings[i] == poolings[j]) return "SC baseline: pooling given twice";
    }
  }
  if (dictionary_images < 0) return "SC baseline: dictionary images must be >= 0";
  if (descriptors_per_image < 1) return "SC baseline: descriptors per image must be >= 1";
  return "";
}

std::map<std::string, std::string> sc_attributes(const ScBaselineParams& p) {
  auto join = [](const auto& values, auto name) {
    std::string out;
    for (const auto& v : values) out += (out.empty() ? "" : ",") + name(v);
    return out;
  };
  auto int_name = [](int v) { return std::to_string(v); };
  std::map<std::string, std::string> a;
  a["sc_sift_patch_sizes"] = join(p.sift.patch_sizes, int_name);
  a["sc_sift_step"] = std::to_string(p.sift.step);
  a["sc_sift_channel"] = sift_channel_name(p.sift.channel);
  a["sc_sift_contrast_threshold"] = std::to_string(p.sift.contrast_threshold);
  a["sc_sift_smooth"] = p.sift.smooth ? "1" : "0";
  a["sc_dictionary_atoms"] = std::to_string(p.dictionary.atoms);
  a["sc_dictionary_lambda"] = std::to_string(p.dictionary.lambda);
  a["sc_dictionary_seed"] = std::to_string(p.dictionary.seed);
  a["sc_dictionary_images"] = std::to_string(p.dictionary_images);
  a["sc_descriptors_per_image"] = std::to_string(p.descriptors_per_image);
  a["sc_coder"] = coder_kind_name(p.coding.coder);
  a["sc_lambda"] = std::to_string(p.coding.lambda);
  a["sc_omp_sparsity"] = std::to_string(p.coding.sparsity);
  a["sc_pyramid"] = p.pyramid.text();
  a["sc_l2_normalise"] = p.pyramid.l2_normalise ? "1" : "0";
  a["sc_poolings"] = join(p.poolings, [](PoolingKind k) { return pooling_kind_name(k); });
  return a;
}

Eigen::MatrixXf sample_sc_descriptors(const std::vector<std::string>& image_paths,
                                      const ScBaselineParams& params, const Reporter& reporter) {
  if (auto problem = params.check(); !problem.empty()) throw Error(problem);
  if (image_paths.empty()) throw Error("SC dictionary: no training image given");
  std::vector<size_t> order(image_paths.size());
  std::iota(order.begin(), order.end(), size_t{0});
  detail::Rng rng(params.dictionary.seed, SeedStream::kScImageChoice);
  rng.shuffle(order);
  if (params.dictionary_images > 0 &&
      order.size() > static_cast<size_t>(params.dictionary_images)) {
    order.resize(params.dictionary_images);
  }
  const int n = static_cast<int>(order.size());
  std::vector<Eigen::MatrixXf> picked(n);
  detail::LoopErrors errors;
  int64_t done = 0;
#pragma omp parallel for schedule(dynamic)
  for (int i = 0; i < n; ++i) {
    errors.run(i, [&] {
      const std::string& path = image_paths[order[i]];
      const cv::Mat bgr = read_image_bgr(path);  // its errors name the file
      DenseSiftDescriptors sift;
      try {
        sift = dense_sift(bgr, params.sift);
      } catch (const Error& e) {
        throw file_error(path, e.what());
      }
      std::vector<int> informative;
      for (int j = 0; j < sift.count(); ++j) {
        if (!sift.low_contrast[j]) informative.push_back(j);
      }
      detail::Rng image_rng(params.dictionary.seed, SeedStream::kScDescriptorChoice, {order[i]});
      image_rng.shuffle(informative);
      if (informative.size() > static_cast<size_t>(params.descriptors_per_image)) {
        informative.resize(params.descriptors_per_image);
      }
      std::sort(informative.begin(), informative.end());
      picked[i].resize(kSiftDimension, static_cast<Eigen::Index>(informative.size()));
      for (size_t t = 0; t < informative.size(); ++t) {
        picked[i].col(static_cast<Eigen::Index>(t)) = sift.descriptors.col(informative[t]);
      }
    });
#pragma omp critical(sc_sample_progress)
    reporter.report("SC dictionary: descriptors", ++done, n);
  }
  errors.rethrow();
  Eigen::Index total = 0;
  for (const auto& m : picked) total += m.cols();
  Eigen::MatrixXf out(kSiftDimension, total);
  Eigen::Index at = 0;
  for (const auto& m : picked) {
    out.middleCols(at, m.cols()) = m;
    at += m.cols();
  }
  reporter.info("SC dictionary: " + std::to_string(total) + " descriptors from " +
                std::to_string(n) + " of " + std::to_string(image_paths.size()) +
                " training images");
  return out;
}

Dictionary learn_sc_dictionary(const std::vector<std::string>& image_paths,
                               const ScBaselineParams& params, const Reporter& reporter) {
  const Eigen::MatrixXf samples = sample_sc_descriptors(image_paths, params, reporter);
  Dictionary dict = learn_dictionary(samples, params.dictionary, reporter);
  for (const auto& [key, value] : sc_attributes(params)) {
    if (key.rfind("sc_sift", 0) == 0 || key.rfind("sc_dictionary", 0) == 0 ||
        key == "sc_descriptors_per_image") {
      dict.provenance[key] = value;
    }
  }
  dict.provenance["training_images"] = std::to_string(image_paths.size());
  return dict;
}

}  // namespace ishannot
