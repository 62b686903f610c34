#pragma once
// Subsets of a dataset's images that a command works on (`extract --stages`, `baseline --stages`).
#include <string>
#include <vector>

#include "ishannot/data/dataset.h"

namespace ishannot {

/// The images of the listed (normalised) stage ranges, in dataset order; the whole dataset when
/// `stages` is empty. Keeps source, skip notes and listed counts. Throws Error naming the dataset
/// when no image is left.
Dataset images_of_stages(const Dataset& dataset, const std::vector<std::string>& stages);

}  // namespace ishannot
