// Torch-free feature extraction (include/ishannot/infer/extract.h): RowExtractor and
// extract_features over a FeatureNet.
#include "ishannot/infer/extract.h"

#include <chrono>
#include <filesystem>
#include <set>
#include <sstream>

#include "detail/tsv.h"
#include "infer/extract_pipeline.h"
#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/features/store_attributes.h"
#include "ishannot/image/image.h"

namespace ishannot {

std::string skipped_list_path(const std::string& out_path) {
  return out_path + ".skipped.tsv";
}

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

// The network's input size; at the native size, that of the first image that can be read (in
// strict mode the first image must be).
detail::InputGeometry input_geometry(const Dataset& dataset, const ExtractParams& params) {
  detail::InputGeometry g;
  parse_input_size(params.input_size, &g.width, &g.height, &g.policy);
  if (g.policy != ResizePolicy::kNative) return g;
  for (const ImageRecord& r : dataset.images) {
    try {
      const cv::Mat first = read_image_bgr(r.path);
      g.width = first.cols;
      g.height = first.rows;
      return g;
    } catch (const Error&) {
      if (params.strict) throw;
    } catch (const cv::Exception&) {
      if (params.strict) throw;
    }
  }
  throw file_error(dataset.source, "no listed image can be read (--input-size native needs one)");
}

// OUT.skipped.tsv (file, reason) when images were skipped, else no such file (a stale one from an
// earlier run is removed); the same text goes into the store's skipped_images attribute.
std::string skipped_tsv(const std::vector<SkippedImage>& skipped) {
  std::string text = "file\treason\n";
  for (const SkippedImage& s : skipped) {
    text += detail::tsv_field(s.path) + "\t" + detail::tsv_field(s.reason) + "\n";
  }
  return text;
}

void publish_skipped_list(ExtractResult& result, FeatureStoreWriter& writer,
                          const std::string& out_path) {
  const std::string list = skipped_list_path(out_path);
  if (result.skipped.empty()) {
    std::error_code ignored;
    std::filesystem::remove(list, ignored);
    return;
  }
  const std::string text = skipped_tsv(result.skipped);
  write_text_atomically(list, text);
  writer.set_attribute("skipped_images", text);
  result.skipped_list = list;
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

RowExtractor::RowExtractor(FeatureNet& net, const ExtractParams& params, int width, int height,
                           ResizePolicy policy, int64_t batch)
    : net_(net),
      params_(params),
      width_(width),
      height_(height),
      batch_(batch > 0 ? batch : params.batch) {
  const NetIdentity& id = net.identity();
  taps_ = resolve_layers(id.layers, id.arch, params.layers);
  net.set_taps(taps_, params.precision);
  // Layer specs from the forward plan for the batch shape (also validates the input size).
  std::map<int, std::vector<int64_t>> shapes;
  try {
    shapes = net.tap_shapes(batch_, height, width);
  } catch (const std::exception& e) {  // c10::Error from torch, Error from the plan
    throw Error("layer " + id.layers[taps_.back()].name + " of " + id.arch +
                " cannot run at input " + std::to_string(width) + "x" + std::to_string(height) +
                " (fully connected layers need 224x224)");
  }
  for (int t : taps_) {
    // shape: what the stored values are (C x grid when pooled); source_shape: the tap's map.
    LayerSpec spec;
    spec.name = id.layers[t].name;
    spec.source_shape = shape_string(shapes[t]);
    const bool pooled = params.pool.pooled() && shapes[t].size() == 3;
    if (pooled && (params.pool.rows > shapes[t][1] || params.pool.cols > shapes[t][2]))
      throw Error("--pool " + params.pool.text() + ": layer " + spec.name + "'s map is " +
                  std::to_string(shapes[t][1]) + "x" + std::to_string(shapes[t][2]) + " at input " +
                  std::to_string(width) + "x" + std::to_string(height) +
                  ": a grid finer than the map repeats its values (use at most " +
                  std::to_string(shapes[t][1]) + "x" + std::to_string(shapes[t][2]) + ")");
    const std::vector<int64_t> stored =
        pooled ? std::vector<int64_t>{shapes[t][0], params.pool.rows, params.pool.cols} : shapes[t];
    spec.shape = shape_string(stored);
    spec.pooling = pooled ? params.pool.text() : "none";
    spec.dim = 1;
    for (int64_t d : stored) spec.dim *= d;
    layers_.push_back(spec);
  }
  provenance_.run = params.provenance;
  provenance_.backbone = id.arch;
  provenance_.weights_path = id.weights_path;
  provenance_.weights_sha256 = id.weights_sha256;
  provenance_.input_size = std::to_string(width) + "x" + std::to_string(height);
  provenance_.resize_policy = policy == ResizePolicy::kNative ? "native" : "squash";
  provenance_.preprocessing = id.preprocessing.name;
  provenance_.pooling = params.pool.text();
  provenance_.layers = params.layers;
  provenance_.precision = precision_name(params.precision);
}

std::map<std::string, std::string> RowExtractor::attributes(const Dataset* dataset) const {
  StoreProvenance provenance = provenance_;
  if (dataset) {
    provenance.manifest_path = dataset->source;
    provenance.manifest_sha256 = dataset_sha256(*dataset);
  }
  auto attributes = store_attributes(provenance);
  for (const auto& [key, value] : params_.extra_attributes) attributes[key] = value;
  // The net's own (a fine-tuned net's stage range and genes: the leakage guard's input).
  for (const auto& [key, value] : net_.identity().attributes) attributes[key] = value;
  return attributes;
}

std::map<std::string, FloatArray> RowExtractor::rows(const FloatArray& input) {
  const TapMaps outputs = detail::forward_padded(net_, input, batch_);
  std::map<std::string, FloatArray> rows;
  for (int t : taps_)
    rows[net_.identity().layers[static_cast<size_t>(t)].name] =
        detail::tap_rows(outputs.at(t), params_);
  return rows;
}

std::map<std::string, FloatArray> RowExtractor::extract(const std::vector<cv::Mat>& inputs) {
  return rows(to_input(inputs, net_.identity().preprocessing));
}

ExtractResult extract_features(const Dataset& dataset, FeatureNet& net, const ExtractParams& params,
                               const std::string& out_path, const Reporter& reporter) {
  if (auto problem = params.check(); !problem.empty()) throw Error("extract: " + problem);
  if (dataset.images.empty()) throw file_error(dataset.source, "no image to extract");
  const auto start = std::chrono::steady_clock::now();
  const detail::InputGeometry geometry = input_geometry(dataset, params);
  const int width = geometry.width, height = geometry.height;
  const ResizePolicy policy = geometry.policy;
  RowExtractor extractor(net, params, width, height, policy);
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
  const detail::PipelineResult run = detail::run_extract_pipeline(
      todo, extractor, geometry, params, writer,
      [&](int64_t n) { reporter.report("extract", result.already_present + n, total); });
  result.written = run.written;
  result.skipped = run.skipped;
  result.first_batch_seconds = run.first_batch_at;
  publish_skipped_list(result, writer, out_path);
  if (result.written + result.already_present == 0 && !result.skipped.empty()) {
    throw file_error(dataset.source, "none of the " + std::to_string(result.skipped.size()) +
                                         " images can be used, e.g. " +
                                         result.skipped.front().path + ": " +
                                         result.skipped.front().reason + " (all are listed in " +
                                         result.skipped_list + ")");
  }
  writer.close();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace ishannot
