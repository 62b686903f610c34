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

FeatureExtractor::FeatureExtractor(Backbone& net, const ExtractParams& params, int width,
                                   int height, ResizePolicy policy)
    : net_(net), params_(params), width_(width), height_(height) {
  taps_ = net.resolve_layers(params.layers);
  torch::InferenceMode inference;
  net.eval();
  // Layer specs from a forward pass of a zero image (also validates the input size).
  std::vector<std::vector<int64_t>> shapes;
  try {
    shapes = net.layer_shapes(width, height, taps_.back());
  } catch (const c10::Error& e) {
    throw Error("layer " + net.layers()[taps_.back()].name + " of " + net.arch() +
                " cannot run at input " + std::to_string(width) + "x" + std::to_string(height) +
                " (fully connected layers need 224x224)");
  }
  for (int t : taps_) {
    // shape: what the stored values are (C x grid when pooled); source_shape: the tap's map.
    LayerSpec spec;
    spec.name = net.layers()[t].name;
    spec.source_shape = shape_string(shapes[t]);
    const bool pooled = params.pool.pooled() && shapes[t].size() == 3;
    const std::vector<int64_t> stored =
        pooled ? std::vector<int64_t>{shapes[t][0], params.pool.rows, params.pool.cols} : shapes[t];
    spec.shape = shape_string(stored);
    spec.pooling = pooled ? params.pool.text() : "none";
    spec.dim = 1;
    for (int64_t d : stored) spec.dim *= d;
    layers_.push_back(spec);
  }
  provenance_.created_by = params.command_line;
  provenance_.backbone = net.arch();
  provenance_.weights_path = net.weights_path();
  provenance_.weights_sha256 = net.weights_sha256();
  provenance_.input_size = std::to_string(width) + "x" + std::to_string(height);
  provenance_.resize_policy = policy == ResizePolicy::kNative ? "native" : "squash";
  provenance_.preprocessing = net.preprocessing().name;
  provenance_.pooling = params.pool.text();
  provenance_.layers = params.layers;
  provenance_.seed = params.seed;
}

std::map<std::string, std::string> FeatureExtractor::attributes(const Dataset* dataset) const {
  StoreProvenance provenance = provenance_;
  if (dataset) {
    provenance.manifest_path = dataset->source;
    provenance.manifest_sha256 = dataset_sha256(*dataset);
  }
  auto attributes = store_attributes(provenance);
  for (const auto& [key, value] : params_.extra_attributes) attributes[key] = value;
  return attributes;
}

std::map<std::string, torch::Tensor> FeatureExtractor::extract(const std::vector<cv::Mat>& inputs) {
  torch::InferenceMode inference;
  auto outputs = net_.forward_taps(net_.to_input(inputs), taps_);
  std::map<std::string, torch::Tensor> rows;
  for (int t : taps_) rows[net_.layers()[t].name] = to_rows(outputs.at(t), params_);
  return rows;
}

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
  FeatureExtractor extractor(net, params, width, height, policy);
  ExtractResult result;
  result.layers = extractor.layers();
  FeatureStoreWriter writer(out_path, result.layers, params.dtype, extractor.attributes(&dataset),
                            params.resume);
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
    const auto rows = extractor.extract(images);
    std::map<std::string, const float*> data;
    for (const auto& [name, tensor] : rows) data[name] = tensor.data_ptr<float>();
    writer.append(ids, data);
    result.written += static_cast<int64_t>(ids.size());
    reporter.report("extract", result.already_present + result.written, total);
  }
  writer.close();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace ishannot
