#include "nets_images.h"

#include <opencv2/imgproc.hpp>

#include "ishannot/common/error.h"
#include "ishannot/image/image.h"

namespace ishannot::python {

namespace {

bool is_path(py::handle item) {
  return py::isinstance<py::str>(item) || py::hasattr(item, "__fspath__");
}

std::string path_of(py::handle item) {
  return py::str(py::module_::import("os").attr("fspath")(item)).cast<std::string>();
}

std::string shape_text(const py::array& a) {
  std::string s;
  for (py::ssize_t d = 0; d < a.ndim(); ++d) s += (d ? " x " : "") + std::to_string(a.shape(d));
  return s;
}

}  // namespace

std::string image_name(py::handle item, size_t index) {
  if (is_path(item)) return path_of(item);
  return "array " + std::to_string(index);
}

void check_image(py::handle item, size_t index) {
  if (is_path(item)) return;
  if (!py::isinstance<py::array>(item))
    throw Error("image " + std::to_string(index) + ": a path or a NumPy array is needed, got " +
                py::str(py::type::of(item).attr("__name__")).cast<std::string>());
  const auto a = py::reinterpret_borrow<py::array>(item);
  const std::string name = image_name(item, index);
  if (a.dtype().kind() != 'u' || a.dtype().itemsize() != 1)
    throw Error(name + ": dtype " + py::str(a.dtype()).cast<std::string>() +
                ", images must be uint8 (0..255) H x W x 3 RGB (e.g. skimage.util.img_as_ubyte)");
  if (a.ndim() != 3 || a.shape(2) != 3)
    throw Error(name + ": shape " + shape_text(a) +
                ", images must be H x W x 3 (RGB; grey or RGBA images: convert first)");
  if (a.shape(0) < 1 || a.shape(1) < 1) throw Error(name + ": the image has no pixel");
  if (static_cast<uint64_t>(a.shape(0)) * static_cast<uint64_t>(a.shape(1)) > kMaxImagePixels)
    throw Error(name + ": " + shape_text(a) + " is more than " + std::to_string(kMaxImagePixels) +
                " pixels");
}

cv::Mat image_bgr(py::handle item, size_t index) {
  check_image(item, index);
  if (is_path(item)) {
    const std::string path = path_of(item);
    py::gil_scoped_release release;
    return read_image_bgr(path);
  }
  // Any strides (a crop, a flipped view, a channel-last view of planes): a C-contiguous copy
  // first, so the values are read as NumPy indexes them.
  const auto a = py::array_t<uint8_t, py::array::c_style>::ensure(item);
  if (!a) throw Error(image_name(item, index) + ": cannot be read as a uint8 array");
  const cv::Mat rgb(static_cast<int>(a.shape(0)), static_cast<int>(a.shape(1)), CV_8UC3,
                    const_cast<uint8_t*>(a.data()));
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);  // a new buffer: nothing refers to NumPy's after
  return bgr;
}

}  // namespace ishannot::python
