// ishannot._nets: the CNN extension (libtorch), imported by the Python layer on first use:
// features of images (paths or NumPy arrays) as extract computes them, with a backbone of the
// caller's choice or a model bundle's recipe, and extract's feature store.
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <malloc.h>
#include <pybind11/stl.h>

#include "common_bind.h"
#include "detail/half.h"
#include "ishannot/annotate/model_bundle.h"
#include "ishannot/annotate/recipe.h"
#include "ishannot/common/error.h"
#include "ishannot/data/dataset.h"
#include "ishannot/nets/annotate_source.h"
#include "ishannot/nets/backbone.h"
#include "ishannot/nets/extract.h"
#include "nets_images.h"

namespace ishannot::python {

namespace {

// --threads for the CNN: OpenMP and libtorch's intra-op pool (as the CLI's CNN commands).
void apply_cnn_threads(int threads) {
  at::set_num_threads(apply_threads(threads));
}

// Rows of every layer, accumulated batch by batch (float32, or float16 as a store holds them).
struct LayerRows {
  std::vector<float> f32;
  std::vector<uint16_t> f16;
  int64_t dim = 0;
};

// The images of one call, pulled from a Python iterable batch by batch (memory: one batch).
class ImageFeed {
 public:
  explicit ImageFeed(py::iterable images) : it_(py::iter(images)) {
    if (py::hasattr(images, "__len__")) {
      size_ = py::len(images);
      for (py::handle item : images) check_image(item, checked_++);  // all, before any work
    }
  }
  int64_t size() const { return size_; }  // -1: a generator
  // Up to `n` next images as BGR, with their names.
  std::vector<cv::Mat> next(size_t n, std::vector<std::string>& names) {
    std::vector<cv::Mat> out;
    names.clear();
    while (out.size() < n && it_ != py::iterator::sentinel()) {
      names.push_back(image_name(*it_, index_));
      out.push_back(image_bgr(*it_, index_++));
      ++it_;
    }
    return out;
  }

 private:
  py::iterator it_;
  int64_t size_ = -1;
  size_t checked_ = 0, index_ = 0;
};

// Brings one image to the network's input: at the native size all images share one size.
cv::Mat network_input(const cv::Mat& bgr, const std::string& name, int* width, int* height,
                      ResizePolicy policy) {
  if (policy == ResizePolicy::kNative) {
    if (*width == 0) {
      *width = bgr.cols;
      *height = bgr.rows;
    } else if (bgr.cols != *width || bgr.rows != *height) {
      throw Error(name + ": is " + std::to_string(bgr.cols) + "x" + std::to_string(bgr.rows) +
                  ", the other images " + std::to_string(*width) + "x" + std::to_string(*height) +
                  " (input_size 'native' needs one size; give input_size='WxH' to resize)");
    }
  }
  return resize_for_network(bgr, *width, *height, policy);
}

void append_rows(const std::map<std::string, torch::Tensor>& out, FeatureDtype dtype,
                 std::map<std::string, LayerRows>& rows) {
  for (const auto& [name, t] : out) {
    LayerRows& r = rows[name];
    r.dim = t.size(1);
    const float* p = t.data_ptr<float>();
    const auto n = static_cast<size_t>(t.numel());
    if (dtype == FeatureDtype::kFloat32) {
      r.f32.insert(r.f32.end(), p, p + n);
    } else {
      for (size_t i = 0; i < n; ++i) r.f16.push_back(detail::float_to_half(p[i]));
    }
  }
}

py::dict layer_arrays(std::map<std::string, LayerRows>& rows, int64_t n) {
  py::dict out;
  for (auto& [name, r] : rows) {
    if (!r.f16.empty()) {
      auto bits = to_numpy(std::move(r.f16), n, r.dim);
      out[py::str(name)] = bits.attr("view")("float16");
    } else {
      out[py::str(name)] = to_numpy(std::move(r.f32), n, r.dim);
    }
  }
  return out;
}

ExtractParams extract_params(const std::string& layers, const std::string& input_size,
                             const std::string& pool, int batch) {
  ExtractParams p;
  p.layers = layers;
  p.input_size = input_size;
  p.pool = parse_pool_grid(pool);
  p.batch = batch;
  if (auto problem = p.check(); !problem.empty()) throw Error("extract: " + problem);
  return p;
}

FeatureDtype parse_dtype(const std::string& precision) {
  if (precision == "float32") return FeatureDtype::kFloat32;
  if (precision == "float16") return FeatureDtype::kFloat16;
  throw Error("extract: precision '" + precision + "' is not float32 or float16");
}

py::list layer_specs(const std::vector<LayerSpec>& layers) {
  py::list out;
  for (const auto& l : layers) {
    py::dict d;
    d["name"] = l.name;
    d["dim"] = l.dim;
    d["shape"] = l.shape;
    d["source_shape"] = l.map_shape();
    d["pooling"] = l.pooling;
    out.append(d);
  }
  return out;
}

// extract(): the features of every image, batch by batch, as extract_features computes them.
py::dict extract_images(Backbone& net, py::iterable images, const std::string& layers,
                        const std::string& input_size, const std::string& pool, int batch,
                        const std::string& precision, int threads, py::object progress) {
  ExtractParams params = extract_params(layers, input_size, pool, batch);
  const FeatureDtype dtype = parse_dtype(precision);
  apply_cnn_threads(threads);
  Progress bridge(std::move(progress));
  ImageFeed feed(images);
  int width = 0, height = 0;
  ResizePolicy policy;
  parse_input_size(params.input_size, &width, &height, &policy);
  std::unique_ptr<FeatureExtractor> extractor;
  std::map<std::string, LayerRows> rows;
  std::vector<std::string> names, all_names;
  int64_t done = 0;
  for (std::vector<cv::Mat> bgr = feed.next(batch, names); !bgr.empty();
       bgr = feed.next(batch, names)) {
    std::vector<cv::Mat> inputs;
    for (size_t i = 0; i < bgr.size(); ++i)
      inputs.push_back(network_input(bgr[i], names[i], &width, &height, policy));
    all_names.insert(all_names.end(), names.begin(), names.end());
    py::gil_scoped_release release;
    c10::InferenceMode inference;
    if (!extractor) {
      // As extract_features: every forward pass at `batch` images (the last one padded).
      extractor = std::make_unique<FeatureExtractor>(net, params, width, height, policy);
    }
    append_rows(extractor->extract(inputs), dtype, rows);
    done += static_cast<int64_t>(inputs.size());
    bridge.reporter().report("extract", done, std::max<int64_t>(feed.size(), 0));
  }
  bridge.rethrow();
  if (!extractor) throw Error("extract: no image given");
  py::dict out;
  out["features"] = layer_arrays(rows, done);
  out["layers"] = layer_specs(extractor->layers());
  out["attributes"] = extractor->attributes();
  out["images"] = all_names;
  return out;
}

// A model bundle's recipe: its network (weights checked) and extractor (annotate's features).
class RecipeExtractor {
 public:
  RecipeExtractor(const std::string& bundle_path, const std::string& weights) {
    const ModelBundle bundle = read_model_bundle(bundle_path);
    net_ = recipe_network(bundle.recipe, weights);
    ResizePolicy policy;
    const ExtractParams params = recipe_extract_params(bundle.recipe, &width_, &height_, &policy);
    c10::InferenceMode inference;
    extractor_ = std::make_unique<FeatureExtractor>(*net_, params, width_, height_, policy);
    if (auto diff =
            recipe_difference(bundle.recipe, extractor_->attributes(), extractor_->layers());
        !diff.empty())
      throw file_error(bundle_path, "the recipe's network gives other features: " + diff);
    for (const auto& l : bundle.recipe.layers) order_.push_back(l.name);
  }
  // Features of images (concatenated in the recipe's order) and each image's own size.
  py::tuple features(const py::list& images, int threads) {
    apply_cnn_threads(threads);
    std::vector<cv::Mat> inputs;
    std::vector<std::pair<int, int>> sizes;
    for (size_t i = 0; i < images.size(); ++i) {
      const py::object item = images[i];
      const cv::Mat bgr = image_bgr(item, i);
      sizes.emplace_back(bgr.cols, bgr.rows);
      inputs.push_back(resize_for_network(bgr, width_, height_, ResizePolicy::kSquash));
    }
    if (inputs.empty()) throw Error("annotate: no image given");
    std::vector<float> rows;
    int64_t dim = 0;
    {
      py::gil_scoped_release release;
      c10::InferenceMode inference;
      const auto out = extractor_->extract(inputs);
      for (const auto& name : order_) dim += out.at(name).size(1);
      rows.resize(inputs.size() * static_cast<size_t>(dim));
      int64_t offset = 0;
      for (const auto& name : order_) {
        const torch::Tensor& t = out.at(name);
        const int64_t d = t.size(1);
        const float* p = t.data_ptr<float>();
        for (size_t k = 0; k < inputs.size(); ++k)
          std::copy(p + static_cast<int64_t>(k) * d, p + static_cast<int64_t>(k + 1) * d,
                    rows.data() + static_cast<int64_t>(k) * dim + offset);
        offset += d;
      }
    }
    // Give the batch's freed buffers back: glibc's dynamic mmap threshold otherwise puts the
    // next batches' tensors on a heap that fragments (peak RSS grew with the number of images:
    // 1.1 GB for 1,500 images, 3.4 GB for 10,000; docs/BENCHMARKS.md "Python API").
    malloc_trim(0);
    return py::make_tuple(to_numpy(std::move(rows), static_cast<int64_t>(inputs.size()), dim),
                          sizes);
  }

 private:
  std::shared_ptr<Backbone> net_;
  int width_ = 0, height_ = 0;
  std::unique_ptr<FeatureExtractor> extractor_;
  std::vector<std::string> order_;
};

}  // namespace

}  // namespace ishannot::python

PYBIND11_MODULE(_nets, m) {
  namespace python = ishannot::python;
  namespace py = pybind11;
  using ishannot::Backbone;
  m.doc() = "ishannot's CNN extension (libtorch): imported by `ishannot` when first needed.";
  python::use_core_error();
  py::class_<Backbone, std::shared_ptr<Backbone>>(m, "Backbone")
      .def_property_readonly("arch", &Backbone::arch)
      .def_property_readonly("weights_path", &Backbone::weights_path)
      .def_property_readonly("weights_sha256", &Backbone::weights_sha256);
  m.def("load_backbone", &ishannot::load_backbone, py::arg("arch"), py::arg("weights"),
        py::call_guard<py::gil_scoped_release>());
  m.def("extract", &python::extract_images);
  m.def("extract_store",
        [](Backbone& net, const ishannot::Dataset& dataset, const std::string& out,
           const std::string& layers, const std::string& input_size, const std::string& pool,
           int batch, const std::string& precision, bool resume, int threads, py::object progress) {
          ishannot::ExtractParams params = python::extract_params(layers, input_size, pool, batch);
          params.dtype = python::parse_dtype(precision);
          params.resume = resume;
          params.provenance.command_line = "python: ishannot.extract";
          python::apply_cnn_threads(threads);
          python::Progress bridge(std::move(progress));
          ishannot::ExtractResult r;
          {
            py::gil_scoped_release release;
            r = ishannot::extract_features(dataset, net, params, out, bridge.reporter());
          }
          bridge.rethrow();
          std::vector<std::pair<std::string, std::string>> skipped;
          for (const auto& s : r.skipped) skipped.emplace_back(s.path, s.reason);
          return py::make_tuple(r.written + r.already_present, skipped);
        });
  py::class_<python::RecipeExtractor>(m, "RecipeExtractor")
      .def(py::init<const std::string&, const std::string&>(),
           py::call_guard<py::gil_scoped_release>())
      .def("features", &python::RecipeExtractor::features);
}
