// `ishannot export`'s network side (include/ishannot/nets/onnx_export.h).
#include "ishannot/nets/onnx_export.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "ishannot/annotate/annotator.h"
#include "ishannot/common/error.h"
#include "ishannot/features/pool_grid.h"
#include "ishannot/image/image.h"
#include "ishannot/nets/annotate_source.h"
#include "ishannot/nets/extract.h"
#include "nets/stages.h"

namespace ishannot {

namespace {

std::string attribute(const FeatureRecipe& recipe, const std::string& key) {
  const auto it = recipe.attributes.find(key);
  return it == recipe.attributes.end() ? std::string() : it->second;
}

std::vector<float> values(const torch::Tensor& t) {
  const torch::Tensor c = t.detach().to(torch::kFloat).contiguous();
  return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
}

ExportConv export_conv(const detail::ConvStage& c) {
  ExportConv e;
  e.weight = values(c.weight);
  e.dims = c.weight.sizes().vec();
  e.bias = c.bias.defined() ? values(c.bias) : std::vector<float>(e.dims[0], 0.0f);
  e.stride = c.stride();
  e.padding = c.padding();
  e.relu = c.relu();
  return e;
}

ExportStage export_stage(const Stage* stage, const std::string& name) {
  ExportStage s;
  s.name = name;
  using K = ExportStage::Kind;
  if (const auto* c = dynamic_cast<const detail::ConvStage*>(stage)) {
    s.kind = K::kConv;
    s.conv = export_conv(*c);
  } else if (dynamic_cast<const detail::ReluStage*>(stage)) {
    s.kind = K::kRelu;
  } else if (const auto* m = dynamic_cast<const detail::MaxPoolStage*>(stage)) {
    s.kind = K::kMaxPool;
    s.kernel = m->kernel();
    s.stride = m->stride();
    s.padding = m->padding();
  } else if (const auto* b = dynamic_cast<const detail::BottleneckStage*>(stage)) {
    s.kind = K::kBottleneck;
    s.block = {export_conv(*b->a()), export_conv(*b->b()), export_conv(*b->c()),
               b->projection() ? export_conv(*b->projection()) : ExportConv{}};
  } else if (dynamic_cast<const detail::GlobalAvgPoolStage*>(stage)) {
    s.kind = K::kGlobalAvgPool;
  } else if (const auto* l = dynamic_cast<const detail::LinearStage*>(stage)) {
    s.kind = K::kLinear;
    s.conv.weight = values(l->weight);
    s.conv.dims = l->weight.sizes().vec();
    s.conv.bias = values(l->bias);
    // The ImageNet class layers (softmax) are refused by export_refusal: no softmax here.
  } else {
    throw Error("stage " + name + ": a kind of stage the ONNX exporter does not know");
  }
  return s;
}

std::string describe_pixels(const PixelPreprocessing& p) {
  std::ostringstream d;
  d << "uint8 -> float, " << (p.rgb ? "RGB" : "RGB -> BGR") << ", x " << p.scale << ", minus mean ("
    << p.mean[0] << ", " << p.mean[1] << ", " << p.mean[2] << "), divided by (" << p.stdev[0]
    << ", " << p.stdev[1] << ", " << p.stdev[2] << ") (" << p.name
    << " preprocessing, in the network's channel order).";
  return d.str();
}

// Features of `inputs` (already at the recipe's size), concatenated in the recipe's layer order:
// the extractor annotate's CNN source uses, with annotate's parameters (recipe_extract_params).
std::vector<float> recipe_features(Backbone& net, const FeatureRecipe& recipe,
                                   const ExtractParams& params, const std::vector<cv::Mat>& inputs,
                                   int width, int height) {
  FeatureExtractor extractor(net, params, width, height, ResizePolicy::kSquash);
  const auto out = extractor.extract(inputs);
  const int64_t n = static_cast<int64_t>(inputs.size()), dim = recipe.dim();
  std::vector<float> rows(static_cast<size_t>(n * dim));
  int64_t offset = 0;
  for (const auto& l : recipe.layers) {
    const torch::Tensor t = out.at(l.name).contiguous();
    const int64_t d = t.size(1);
    for (int64_t i = 0; i < n; ++i)
      std::copy(t.data_ptr<float>() + i * d, t.data_ptr<float>() + (i + 1) * d,
                rows.data() + i * dim + offset);
    offset += d;
  }
  return rows;
}

}  // namespace

std::string export_refusal(const FeatureRecipe& recipe) {
  const std::string backbone = attribute(recipe, "backbone");
  if (backbone == "sparse-coding")
    return "its features are sparse codes of dense SIFT descriptors (the SC baseline): dense "
           "SIFT and the lasso coder have no ONNX form";
  if (backbone != "resnet50" && backbone != "vgg16")
    return "backbone '" + backbone + "' is not one the exporter knows (resnet50, vgg16)";
  if (attribute(recipe, "input_size") == "native" || attribute(recipe, "input_size").empty())
    return "its input size is 'native' (each image its own size): the graph needs a fixed size";
  for (const auto& l : recipe.layers)
    if (l.name == "fc1000" || l.name == "fc8" || l.name == "36")
      return "layer " + l.name + " is the ImageNet class layer (softmax), not a feature layer";
  for (const auto& l : recipe.layers)
    if (l.shape.empty() &&
        parse_pool_grid(attribute(recipe, "pooling").empty() ? "none"
                                                             : attribute(recipe, "pooling"))
            .pooled())
      return "layer " + l.name + " has no recorded map shape (needed to pool in the graph)";
  return "";
}

ExportNet export_net(const Backbone& net, const std::vector<std::string>& layers, int width,
                     int height) {
  std::map<int, std::string> names;  // stage index -> the name the recipe uses
  int last = -1;
  for (const auto& l : layers) {
    const int index = net.resolve_layer(l);
    names[index] = l;
    last = std::max(last, index);
  }
  ExportNet e;
  e.arch = net.arch();
  const PixelPreprocessing& p = net.preprocessing();
  e.rgb = p.rgb;
  e.scale = p.scale;
  e.mean = p.mean;
  e.stdev = p.stdev;
  e.width = width;
  e.height = height;
  for (int i = 0; i <= last; ++i) {
    const auto at = names.find(i);
    e.stages.push_back(export_stage(net.stages()[static_cast<size_t>(i)].get(),
                                    at == names.end() ? net.layers()[i].name : at->second));
  }
  return e;
}

ModelPackage make_model_package(ModelBundle& bundle, const std::vector<cv::Mat>& bgr_images,
                                const std::vector<std::string>& image_ids,
                                const ExportParams& params) {
  const std::string refusal = export_refusal(bundle.recipe);
  if (!refusal.empty()) throw file_error(bundle.path, "cannot be exported to ONNX: " + refusal);
  try {
    annotator_graph_check(bundle);
  } catch (const Error& e) {
    throw file_error(bundle.path, std::string("cannot be exported to ONNX: ") + e.what());
  }
  for (auto& stage : bundle.stages) load_stage_weights(bundle, stage);
  const auto net = recipe_network(bundle.recipe, params.weights_override);
  ModelPackage pkg;
  ResizePolicy policy;
  const ExtractParams extract =
      recipe_extract_params(bundle.recipe, &pkg.width, &pkg.height, &policy);
  std::vector<std::string> layers;
  for (const auto& l : bundle.recipe.layers) layers.push_back(l.name);
  OnnxModelInfo info;
  info.producer_version = params.provenance.version();
  info.doc_string = "ishannot annotator exported from " + bundle.path;
  info.metadata = {{"created_by", params.provenance.command_line}, {"bundle", bundle.path}};
  pkg.onnx =
      annotator_graph(export_net(*net, layers, pkg.width, pkg.height), bundle).serialize(info);
  pkg.arch = net->arch();
  pkg.pixel_preprocessing = describe_pixels(net->preprocessing());
  pkg.tool_version = params.provenance.version();
  pkg.created_by = params.provenance.command_line;
  pkg.test_images = image_ids;
  if (bundle.attributes.count("term_ids")) {  // recorded by train --ontology
    const auto ids = nlohmann::json::parse(bundle.attributes.at("term_ids"));
    for (auto it = ids.begin(); it != ids.end(); ++it)
      pkg.term_ids[it.key()] = it.value().get<std::string>();
    pkg.ontology = attribute(bundle.recipe, "ontology");
    if (bundle.attributes.count("ontology")) pkg.ontology = bundle.attributes.at("ontology");
  }
  std::vector<cv::Mat> inputs;
  for (const auto& bgr : bgr_images) {
    inputs.push_back(resize_for_network(bgr, pkg.width, pkg.height, ResizePolicy::kSquash));
    cv::Mat rgb;
    cv::cvtColor(inputs.back(), rgb, cv::COLOR_BGR2RGB);
    pkg.test_input.insert(pkg.test_input.end(), rgb.data, rgb.data + rgb.total() * 3);
  }
  const std::vector<float> rows =
      recipe_features(*net, bundle.recipe, extract, inputs, pkg.width, pkg.height);
  for (const auto& stage : bundle.stages) {
    const StageAnnotator annotator(bundle, stage);
    std::vector<float> z = rows;
    annotator.preprocess(z.data(), static_cast<int64_t>(inputs.size()));
    const BatchScores s = annotator.score(z.data(), static_cast<int64_t>(inputs.size()));
    pkg.test_scores[stage.stage_range].assign(s.score.begin(), s.score.end());
  }
  return pkg;
}

}  // namespace ishannot
