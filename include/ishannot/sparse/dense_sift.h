#pragma once
// Dense SIFT (VLFeat vl_dsift) on a regular grid: the local descriptors of the sparse-coding
// baseline (Sun et al. 2013; PAPER.md "Baseline").
//
// Defaults follow VLFeat's vl_phow: the image is taken in [0,1], smoothed with a Gaussian of
// sigma = sqrt((bin/6)^2 - 0.25) per scale, descriptors use the flat-window ("fast") variant, and a
// descriptor whose gradient energy (VLFeat's keypoint norm) is below `contrast_threshold` is
// "low contrast": it is zeroed and gets a zero code. On a 320x128 image, 16x16 patches every 8 px
// give 39 x 15 = 585 descriptors.
#include <Eigen/Core>
#include <cstdint>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace ishannot {

/// Which image plane the descriptors are computed on.
enum class SiftChannel {
  kGrey,   ///< luminance (OpenCV BGR -> grey)
  kStain,  ///< the blue-purple ISH signal: max(0, B - R) / 255, so beige tissue and white
           ///< background are ~0 and stained regions bright
};

/// Parses "grey"/"gray"/"stain"; throws Error otherwise.
SiftChannel parse_sift_channel(const std::string& name);
std::string sift_channel_name(SiftChannel channel);

struct DenseSiftParams {
  std::vector<int> patch_sizes = {16};  ///< patch side in px (4x4 spatial bins of side/4 px);
                                        ///< several values = multi-scale (e.g. 16,24,32)
  int step = 8;                         ///< grid step in px, for every scale
  SiftChannel channel = SiftChannel::kGrey;
  double contrast_threshold = 0.005;  ///< vl_phow's default; 0 keeps every descriptor
  bool smooth = true;                 ///< vl_phow's per-scale Gaussian smoothing
  /// "" when valid, else what is wrong. Patch sizes must be multiples of 4 and >= 8.
  std::string check() const;
};

/// The descriptors of one image.
struct DenseSiftDescriptors {
  int width = 0;  ///< image size the positions refer to
  int height = 0;
  Eigen::MatrixXf descriptors;  ///< 128 x n, one column per descriptor, unit l2 norm (zero when
                                ///< low contrast)
  std::vector<float> x;         ///< descriptor centres in px
  std::vector<float> y;
  std::vector<uint8_t> low_contrast;  ///< 1 when below the contrast threshold (column zeroed)
  int count() const { return static_cast<int>(x.size()); }
  int above_threshold() const;  ///< descriptors that carry information
};

constexpr int kSiftDimension = 128;

/// Computes dense SIFT on an 8-bit BGR image (read_image_bgr). Throws Error when the image is
/// smaller than the largest patch.
DenseSiftDescriptors dense_sift(const cv::Mat& bgr, const DenseSiftParams& params);

/// The image plane in [0,1] (CV_32F) that dense_sift works on.
cv::Mat sift_plane(const cv::Mat& bgr, SiftChannel channel);

}  // namespace ishannot
