#include <torch/torch.h>

#include <chrono>
#include <set>
#include <sstream>

#include "ishannot/common/error.h"
#include "ishannot/features/store_attributes.h"
#include "ishannot/image/image.h"
#include "ishannot/nets/backbone.h"
#include "ishannot/nets/extract.h"

namespace ishannot {

std::string ExtractParams::check() const {
  if (batch < 1 || batch > 4096) return "batch must be in 1..4096";
  if (auto problem = pool.check(); !problem.empty()) return problem;
  if (layers.empty()) return "no layer given";
  return "";
}

namespace {

std::string shape_string(const std::vector<int64_t>& shape) {
  std::ostringstream out;
  for (size_t i = 0; i < shape.size(); ++i) out << (i ? "x" : "") << shape[i];
  return out.str();
}

// A tap's map, pooled to the grid's cells when asked (vectors pass through), flattened per image
// in (C, H, W) order.
torch::Tensor to_rows(const torch::Tensor& map, const ExtractParams& p) {
  torch::Tensor x = map;
  if (p.pool.pooled() && x.dim() == 4) {
    const std::vector<int64_t> cells = {p.pool.rows, p.pool.cols};
    x = p.pool.op == "avg" ? torch::adaptive_avg_pool2d(x, cells)
                           : std::get<0>(torch::adaptive_max_pool2d(x, cells));
  }
  return x.flatten(1).contiguous();
}

// A resumed partial must hold only images of this dataset: a manifest that lost images since
// the partial was started is another dataset (like a changed layer).
void refuse_ids_not_in(const Dataset& dataset, const std::vector<std::string>& stored,
                       const std::string& partial) {
  std::set<std::string> ids;
  for (const ImageRecord& r : dataset.images) ids.insert(r.id);
  int64_t extra = 0;
  std::string first;
  for (const auto& id : stored)
    if (!ids.count(id) && extra++ == 0) first = id;
  if (extra > 0)
    throw file_error(partial, "cannot resume: it holds " + std::to_string(extra) +
                                  " images the dataset " + dataset.source +
                                  " no longer lists (first: " + first +
                                  "); --restart to start over with this dataset");
}

}  // namespace

ExtractResult extract_features(const Dataset& dataset, Backbone& net, const ExtractParams& params,
                               const std::string& out_path, const Reporter& reporter) {
  if (auto problem = params.check(); !problem.empty()) throw Error("extract: " + problem);
  if (dataset.images.empty()) throw file_error(dataset.source, "no image to extract");
  const auto start = std::chrono::steady_clock::now();
  int width = 0, height = 0;
  ResizePolicy policy;
  parse_input_size(params.input_size, &width, &height, &policy);
  if (policy == ResizePolicy::kNative) {
    const cv::Mat first = read_image_bgr(dataset.images.front().path);
    width = first.cols;
    height = first.rows;
  }
  const std::vector<int> taps = net.resolve_layers(params.layers);
  torch::InferenceMode inference;
  net.eval();

  // Layer specs from a forward pass of a zero image (also validates the input size).
  std::vector<std::vector<int64_t>> shapes;
  try {
    shapes = net.layer_shapes(width, height, taps.back());
  } catch (const c10::Error& e) {
    throw Error("layer " + net.layers()[taps.back()].name + " of " + net.arch() +
                " cannot run at input " + std::to_string(width) + "x" + std::to_string(height) +
                " (fully connected layers need 224x224)");
  }
  ExtractResult result;
  for (int t : taps) {
    // shape: what the stored values are (C x grid when pooled); source_shape: the tap's map.
    LayerSpec spec;
    spec.name = net.layers()[t].name;
    spec.source_shape = shape_string(shapes[t]);
    const bool pooled = params.pool.pooled() && shapes[t].size() == 3;
    spec.shape = pooled ? shape_string({shapes[t][0], params.pool.rows, params.pool.cols})
                        : spec.source_shape;
    spec.pooling = pooled ? params.pool.text() : "none";
    spec.dim = 1;
    for (int64_t d : pooled ? std::vector<int64_t>{shapes[t][0], params.pool.rows, params.pool.cols}
                            : shapes[t])
      spec.dim *= d;
    result.layers.push_back(spec);
  }

  StoreProvenance provenance;
  provenance.created_by = params.command_line;
  provenance.manifest_path = dataset.source;
  provenance.manifest_sha256 = dataset_sha256(dataset);
  provenance.backbone = net.arch();
  provenance.weights_path = net.weights_path();
  provenance.weights_sha256 = net.weights_sha256();
  provenance.input_size = std::to_string(width) + "x" + std::to_string(height);
  provenance.resize_policy = policy == ResizePolicy::kNative ? "native" : "squash";
  provenance.preprocessing = net.preprocessing().name;
  provenance.pooling = params.pool.text();
  provenance.layers = params.layers;
  provenance.seed = params.seed;
  auto attributes = store_attributes(provenance);
  for (const auto& [key, value] : params.extra_attributes) attributes[key] = value;
  FeatureStoreWriter writer(out_path, result.layers, params.dtype, attributes, params.resume);
  const std::set<std::string> done(writer.existing_ids().begin(), writer.existing_ids().end());
  refuse_ids_not_in(dataset, writer.existing_ids(), out_path + ".partial");
  set_dataset_metadata(writer, dataset);
  result.already_present = static_cast<int64_t>(done.size());
  if (!done.empty()) {
    reporter.info("resuming " + out_path + ".partial: " + std::to_string(done.size()) +
                  " images already extracted");
  }

  std::vector<const ImageRecord*> todo;
  for (const ImageRecord& r : dataset.images) {
    if (r.path.empty()) throw Error(dataset.source + ": image " + r.id + " has no file to read");
    if (!done.count(r.id)) todo.push_back(&r);
  }
  const int64_t total = static_cast<int64_t>(dataset.images.size());
  reporter.report("extract", result.already_present, total);
  for (size_t begin = 0; begin < todo.size(); begin += static_cast<size_t>(params.batch)) {
    const size_t end = std::min(todo.size(), begin + static_cast<size_t>(params.batch));
    std::vector<cv::Mat> images;
    std::vector<std::string> ids;
    for (size_t i = begin; i < end; ++i) {
      cv::Mat img = read_image_bgr(todo[i]->path);
      if (policy == ResizePolicy::kNative && (img.cols != width || img.rows != height)) {
        throw file_error(todo[i]->path, "is " + std::to_string(img.cols) + "x" +
                                            std::to_string(img.rows) + ", the other images " +
                                            std::to_string(width) + "x" + std::to_string(height) +
                                            " (--input-size native needs one size)");
      }
      images.push_back(resize_for_network(img, width, height, policy));
      ids.push_back(todo[i]->id);
    }
    auto outputs = net.forward_taps(net.to_input(images), taps);
    std::map<std::string, torch::Tensor> rows;
    std::map<std::string, const float*> data;
    for (int t : taps) {
      const std::string& name = net.layers()[t].name;
      rows[name] = to_rows(outputs.at(t), params);
      data[name] = rows[name].data_ptr<float>();
    }
    writer.append(ids, data);
    result.written += static_cast<int64_t>(ids.size());
    reporter.report("extract", result.already_present + result.written, total);
  }
  writer.close();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace ishannot
