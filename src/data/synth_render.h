#pragma once
// Internal: rendering one synthetic image of a group.
#include <cstdint>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "ishannot/data/synth.h"

namespace ishannot::detail {

/// Renders one image. `group_seed` fixes what the group's images share (pattern offsets, clutter),
/// `image_seed` what varies per image; `variation` in [0, 1] scales all per-image randomness
/// (0 = canonical). `stage` must be normalised. With `masks`, also where each of `terms` was
/// painted: one 8-bit mask per term at the image's size, 255 where the term's pattern density
/// (its shapes after the image's shift and warp, before strength and stain gain) is >= 0.5 inside
/// the embryo; all zero when the image misses the pattern (--missing).
cv::Mat render_group_image(const std::vector<std::string>& terms, const std::string& stage,
                           uint64_t group_seed, uint64_t image_seed, double variation,
                           bool with_clutter, const SynthParams& params,
                           std::vector<cv::Mat>* masks = nullptr);

/// Whether a group shows clutter (expression outside its terms), drawn from its seed.
bool group_has_clutter(uint64_t group_seed, double probability);

}  // namespace ishannot::detail
