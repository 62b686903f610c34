#pragma once
// Images handed to the _nets extension: a path (str or os.PathLike, decoded as the CLI decodes
// it) or a NumPy array H x W x 3 uint8 in RGB order (scikit-image, napari, matplotlib), turned
// into the BGR cv::Mat the library takes. Anything else is an ishannot.Error, one line.
#include <opencv2/core.hpp>
#include <string>

#include "common_bind.h"

namespace ishannot::python {

/// What `item` is, for messages: the path, or "array N" (N = its position in the call).
std::string image_name(py::handle item, size_t index);

/// Checks an image argument without decoding it (a path: exists is not checked here; an array:
/// dtype uint8, 3-D, 3 channels, no zero size). Throws Error naming it.
void check_image(py::handle item, size_t index);

/// The image as 8-bit BGR: a path read with read_image_bgr (needs the GIL: releases it while
/// decoding), an array copied (any strides) with R and B swapped.
cv::Mat image_bgr(py::handle item, size_t index);

}  // namespace ishannot::python
