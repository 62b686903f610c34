#include "ishannot/data/subset.h"

#include <set>

#include "ishannot/common/error.h"

namespace ishannot {

Dataset images_of_stages(const Dataset& dataset, const std::vector<std::string>& stages) {
  Dataset part = dataset;
  if (!stages.empty()) {
    const std::set<std::string> wanted(stages.begin(), stages.end());
    part.images.clear();
    for (const auto& image : dataset.images)
      if (wanted.count(image.stage_range)) part.images.push_back(image);
  }
  if (part.images.empty()) throw file_error(dataset.source, "no image (check --stages)");
  return part;
}

}  // namespace ishannot
