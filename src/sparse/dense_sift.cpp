// Dense SIFT through VLFeat, with vl_phow's conventions (see dense_sift.h).
#include "ishannot/sparse/dense_sift.h"

extern "C" {
#include <vl/dsift.h>
}

#include <algorithm>
#include <cmath>
#include <memory>
#include <opencv2/imgproc.hpp>

#include "ishannot/common/enum_names.h"
#include "ishannot/common/error.h"

namespace ishannot {

constexpr EnumName<SiftChannel> kSiftChannelNames[] = {
    {SiftChannel::kGrey, "grey"}, {SiftChannel::kGrey, "gray"}, {SiftChannel::kStain, "stain"}};

SiftChannel parse_sift_channel(const std::string& name) {
  return parse_enum(kSiftChannelNames, name, "SIFT channel");
}

std::string sift_channel_name(SiftChannel channel) {
  return enum_name(kSiftChannelNames, channel);
}

std::string DenseSiftParams::check() const {
  if (patch_sizes.empty()) return "dense SIFT: no patch size given";
  for (int p : patch_sizes) {
    if (p < 8 || p % 4 != 0) {
      return "dense SIFT: patch size " + std::to_string(p) + " must be a multiple of 4 and >= 8";
    }
  }
  if (step < 1) return "dense SIFT: step " + std::to_string(step) + " must be >= 1";
  if (!(contrast_threshold >= 0)) return "dense SIFT: contrast threshold must be >= 0";
  return "";
}

int DenseSiftDescriptors::above_threshold() const {
  return static_cast<int>(std::count(low_contrast.begin(), low_contrast.end(), uint8_t{0}));
}

cv::Mat sift_plane(const cv::Mat& bgr, SiftChannel channel) {
  if (bgr.empty() || bgr.type() != CV_8UC3) throw Error("dense SIFT needs an 8-bit BGR image");
  cv::Mat plane;
  if (channel == SiftChannel::kGrey) {
    cv::Mat grey;
    cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
    grey.convertTo(plane, CV_32F, 1.0 / 255.0);
  } else {
    plane.create(bgr.rows, bgr.cols, CV_32F);
    for (int r = 0; r < bgr.rows; ++r) {
      const auto* in = bgr.ptr<cv::Vec3b>(r);
      auto* out = plane.ptr<float>(r);
      for (int c = 0; c < bgr.cols; ++c) {
        out[c] = std::max(0, static_cast<int>(in[c][0]) - static_cast<int>(in[c][2])) / 255.0f;
      }
    }
  }
  return plane;
}

DenseSiftDescriptors dense_sift(const cv::Mat& bgr, const DenseSiftParams& params) {
  if (auto problem = params.check(); !problem.empty()) throw Error(problem);
  const int max_patch = *std::max_element(params.patch_sizes.begin(), params.patch_sizes.end());
  if (bgr.cols < max_patch || bgr.rows < max_patch) {
    throw Error("image of " + std::to_string(bgr.cols) + "x" + std::to_string(bgr.rows) +
                " px is smaller than the " + std::to_string(max_patch) + " px SIFT patch");
  }
  const cv::Mat plane = sift_plane(bgr, params.channel);
  const int max_bin = max_patch / 4;

  DenseSiftDescriptors out;
  out.width = bgr.cols;
  out.height = bgr.rows;
  std::vector<std::vector<float>> columns;
  for (int patch : params.patch_sizes) {
    const int bin = patch / 4;
    cv::Mat smoothed = plane;
    const double sigma2 = std::pow(bin / 6.0, 2) - 0.25;  // vl_phow: magnif 6
    if (params.smooth && sigma2 > 0) {
      cv::GaussianBlur(plane, smoothed, cv::Size(0, 0), std::sqrt(sigma2), std::sqrt(sigma2),
                       cv::BORDER_REPLICATE);
    }
    if (!smoothed.isContinuous()) smoothed = smoothed.clone();
    std::unique_ptr<VlDsiftFilter, void (*)(VlDsiftFilter*)> filter(
        vl_dsift_new_basic(out.width, out.height, params.step, bin), vl_dsift_delete);
    if (!filter) throw Error("VLFeat could not create a dense SIFT filter");
    // Align the grids of all scales on the largest patch (vl_phow's offset).
    const int offset = (3 * (max_bin - bin)) / 2;
    vl_dsift_set_bounds(filter.get(), offset, offset, out.width - 1, out.height - 1);
    vl_dsift_set_flat_window(filter.get(), true);
    vl_dsift_set_window_size(filter.get(), 1.5);
    vl_dsift_process(filter.get(), smoothed.ptr<float>());
    const int n = vl_dsift_get_keypoint_num(filter.get());
    const int dim = vl_dsift_get_descriptor_size(filter.get());
    if (dim != kSiftDimension) throw Error("VLFeat dense SIFT gave an unexpected descriptor size");
    const float* desc = vl_dsift_get_descriptors(filter.get());
    const VlDsiftKeypoint* keys = vl_dsift_get_keypoints(filter.get());
    for (int k = 0; k < n; ++k) {
      const bool low = keys[k].norm < params.contrast_threshold;
      columns.emplace_back(desc + static_cast<size_t>(k) * dim,
                           desc + static_cast<size_t>(k + 1) * dim);
      if (low) std::fill(columns.back().begin(), columns.back().end(), 0.0f);
      out.x.push_back(static_cast<float>(keys[k].x));
      out.y.push_back(static_cast<float>(keys[k].y));
      out.low_contrast.push_back(low ? 1 : 0);
    }
  }
  out.descriptors.resize(kSiftDimension, static_cast<Eigen::Index>(columns.size()));
  for (size_t k = 0; k < columns.size(); ++k) {
    out.descriptors.col(static_cast<Eigen::Index>(k)) =
        Eigen::Map<const Eigen::VectorXf>(columns[k].data(), kSiftDimension);
  }
  return out;
}

}  // namespace ishannot
