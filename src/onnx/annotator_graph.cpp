// The annotator as an ONNX graph (include/ishannot/onnx/annotator_graph.h).
#include "ishannot/onnx/annotator_graph.h"

#include <algorithm>
#include <sstream>

#include "ishannot/common/error.h"
#include "ishannot/features/pool_grid.h"

namespace ishannot {

namespace {

using A = OnnxAttribute;

std::string conv(OnnxGraph& g, const std::string& x, const ExportConv& c, const std::string& name) {
  const std::string w = g.constant(name + "_w", c.dims, c.weight);
  const std::string b = g.constant(name + "_b", {c.dims[0]}, c.bias);
  const int64_t p = c.padding, s = c.stride;
  std::string y = g.node("Conv", {x, w, b}, name,
                         {A::integers("kernel_shape", {c.dims[2], c.dims[3]}),
                          A::integers("pads", {p, p, p, p}), A::integers("strides", {s, s})});
  return c.relu ? g.node("Relu", {y}, name + "_relu") : y;
}

std::string pixels(OnnxGraph& g, const ExportNet& net) {
  g.input("image", OnnxType::kUint8, {-1, net.height, net.width, 3});
  std::string x = g.node("Cast", {"image"}, "image_float",
                         {A::integer("to", static_cast<int64_t>(OnnxType::kFloat))});
  x = g.node("Transpose", {x}, "image_nchw", {A::integers("perm", {0, 3, 1, 2})});
  if (!net.rgb)
    x = g.node("Gather", {x, g.constant_int64("bgr_order", {3}, {2, 1, 0})}, "image_bgr",
               {A::integer("axis", 1)});
  if (net.scale != 1.0f)
    x = g.node("Mul", {x, g.constant("pixel_scale", {}, {net.scale})}, "scaled");
  x = g.node("Sub", {x, g.constant("pixel_mean", {1, 3, 1, 1}, {net.mean.begin(), net.mean.end()})},
             "centred");
  if (net.stdev != std::array<float, 3>{1, 1, 1})
    x = g.node("Div",
               {x, g.constant("pixel_stdev", {1, 3, 1, 1}, {net.stdev.begin(), net.stdev.end()})},
               "normalised");
  return x;
}

std::string stage(OnnxGraph& g, const std::string& x, const ExportStage& s) {
  using K = ExportStage::Kind;
  switch (s.kind) {
    case K::kConv:
      return conv(g, x, s.conv, s.name);
    case K::kRelu:
      return g.node("Relu", {x}, s.name);
    case K::kMaxPool: {
      const int64_t p = s.padding;
      return g.node(
          "MaxPool", {x}, s.name,
          {A::integers("kernel_shape", {s.kernel, s.kernel}), A::integers("pads", {p, p, p, p}),
           A::integers("strides", {s.stride, s.stride})});
    }
    case K::kBottleneck: {
      std::string y = conv(g, x, s.block[0], s.name + "_a");
      y = conv(g, y, s.block[1], s.name + "_b");
      y = conv(g, y, s.block[2], s.name + "_c");
      const std::string shortcut =
          s.block[3].empty() ? x : conv(g, x, s.block[3], s.name + "_proj");
      return g.node("Relu", {g.node("Add", {y, shortcut}, s.name + "_sum")}, s.name);
    }
    case K::kGlobalAvgPool:
      return g.node("Flatten", {g.node("GlobalAveragePool", {x}, s.name + "_gap")}, s.name,
                    {A::integer("axis", 1)});
    case K::kLinear: {
      const std::string w = g.constant(s.name + "_w", s.conv.dims, s.conv.weight);
      const std::string b = g.constant(s.name + "_b", {s.conv.dims[0]}, s.conv.bias);
      const std::string flat = g.node("Flatten", {x}, s.name + "_in", {A::integer("axis", 1)});
      const std::string y = g.node("Gemm", {flat, w, b}, s.name + "_fc", {A::integer("transB", 1)});
      return s.softmax ? g.node("Softmax", {y}, s.name, {A::integer("axis", 1)}) : y;
    }
  }
  throw Error("unknown stage kind");
}

// The pixels and the backbone's stages up to the last of `layers`: layer name -> graph value.
// Error naming a layer that is not a stage of the net.
std::map<std::string, std::string> backbone_taps(OnnxGraph& g, const ExportNet& net,
                                                 const std::vector<std::string>& layers) {
  std::map<std::string, std::string> taps;
  for (const auto& l : layers) taps[l];
  std::string x = pixels(g, net);
  size_t found = 0;
  for (const auto& s : net.stages) {
    if (found == taps.size()) break;
    x = stage(g, x, s);
    if (const auto at = taps.find(s.name); at != taps.end()) {
      at->second = x;
      ++found;
    }
  }
  for (const auto& [name, value] : taps)
    if (value.empty())
      throw Error("layer '" + name + "' is not a stage of the exported " + net.arch);
  return taps;
}

// "CxHxW" -> {C, H, W}; {} when the layer is a vector or the shape is not recorded.
std::vector<int64_t> map_shape(const std::string& text) {
  std::vector<int64_t> dims;
  std::istringstream in(text);
  for (std::string part; std::getline(in, part, 'x');) dims.push_back(std::stoll(part));
  return dims.size() == 3 ? dims : std::vector<int64_t>{};
}

std::string pooled(OnnxGraph& g, const std::string& x, const LayerSpec& layer,
                   const PoolGrid& pool) {
  const std::vector<int64_t> shape = map_shape(layer.shape);
  if (!pool.pooled() || shape.empty())
    return g.node("Flatten", {x}, layer.name + "_flat", {A::integer("axis", 1)});
  const int64_t c = shape[0], h = shape[1], w = shape[2];
  if (pool.op == "avg") {
    const std::string m = g.constant(layer.name + "_pool", {h * w, int64_t(pool.rows) * pool.cols},
                                     adaptive_average_matrix(int(h), int(w), pool.rows, pool.cols));
    const std::string flat =
        g.node("Reshape", {x, g.constant_int64(layer.name + "_hw", {3}, {-1, c, h * w})},
               layer.name + "_hw");
    return g.node("Flatten", {g.node("MatMul", {flat, m}, layer.name + "_avg")},
                  layer.name + "_flat", {A::integer("axis", 1)});
  }
  std::vector<std::string> cells;
  for (int i = 0; i < pool.rows; ++i)
    for (int j = 0; j < pool.cols; ++j) {
      const int64_t r0 = i * h / pool.rows, r1 = ((i + 1) * h + pool.rows - 1) / pool.rows;
      const int64_t c0 = j * w / pool.cols, c1 = ((j + 1) * w + pool.cols - 1) / pool.cols;
      const std::string cell = layer.name + "_cell";
      const std::string part = g.node("Slice",
                                      {x, g.constant_int64(cell + "_from", {2}, {r0, c0}),
                                       g.constant_int64(cell + "_to", {2}, {r1, c1}),
                                       g.constant_int64(cell + "_axes", {2}, {2, 3})},
                                      cell);
      cells.push_back(g.node("ReduceMax", {part}, cell + "_max",
                             {A::integers("axes", {2, 3}), A::integer("keepdims", 1)}));
    }
  // [N, C, 1, 1] cells -> [N, C, cells] -> flattened C-major.
  const std::string all = g.node("Concat", cells, layer.name + "_cells", {A::integer("axis", 2)});
  return g.node("Flatten", {all}, layer.name + "_flat", {A::integer("axis", 1)});
}

std::string bundle_preprocessing(OnnxGraph& g, const std::string& x, const ModelBundle& bundle,
                                 const StageModel& stage) {
  if (bundle.preprocessing == Preprocessing::kL2) {
    const std::string norm =
        g.node("ReduceL2", {x}, "l2_norm", {A::integers("axes", {1}), A::integer("keepdims", 1)});
    const std::string safe = g.node("Max", {norm, g.constant("l2_floor", {}, {1e-30f})}, "l2_safe");
    return g.node("Div", {x, safe}, "l2");
  }
  if (bundle.preprocessing == Preprocessing::kStandardise) {
    const int64_t d = stage.mean.size();
    const std::string mean =
        g.constant(stage.stage_range + "_mean", {d}, {stage.mean.data(), stage.mean.data() + d});
    const std::string scale =
        g.constant(stage.stage_range + "_scale", {d}, {stage.scale.data(), stage.scale.data() + d});
    return g.node("Mul", {g.node("Sub", {x, mean}, "centred_features"), scale}, "standardised");
  }
  return x;
}

std::string stage_scores(OnnxGraph& g, const std::string& z, const ModelBundle& bundle,
                         const StageModel& s) {
  const int64_t members = s.weights.rows(), d = s.weights.cols();
  const int64_t terms = static_cast<int64_t>(s.terms.size());
  std::vector<float> w(s.weights.data(), s.weights.data() + members * d), b;
  for (const auto& t : s.terms)
    for (double v : t.bias) b.push_back(static_cast<float>(v));
  const std::string name = score_output_name(s.stage_range);
  const std::string decision = g.node(
      "Gemm", {z, g.constant(name + "_w", {members, d}, w), g.constant(name + "_b", {members}, b)},
      name + "_decision", {A::integer("transB", 1)});
  const std::string p = g.node("Sigmoid", {decision}, name + "_sigmoid");
  const std::string per_term =
      g.node("Reshape", {p, g.constant_int64(name + "_shape", {3}, {-1, terms, bundle.models})},
             name + "_members");
  return g.node("ReduceMean", {per_term}, name + "_mean",
                {A::integers("axes", {2}), A::integer("keepdims", 0)});
}

}  // namespace

std::string score_output_name(const std::string& stage_range) {
  std::string name = "scores_" + stage_range;
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

std::vector<float> adaptive_average_matrix(int h, int w, int gh, int gw) {
  std::vector<float> m(static_cast<size_t>(h) * w * gh * gw, 0.0f);
  for (int i = 0; i < gh; ++i)
    for (int j = 0; j < gw; ++j) {
      const int r0 = i * h / gh, r1 = ((i + 1) * h + gh - 1) / gh;
      const int c0 = j * w / gw, c1 = ((j + 1) * w + gw - 1) / gw;
      const float v = 1.0f / static_cast<float>((r1 - r0) * (c1 - c0));
      for (int r = r0; r < r1; ++r)
        for (int c = c0; c < c1; ++c)
          m[(static_cast<size_t>(r) * w + c) * gh * gw + i * gw + j] = v;
    }
  return m;
}

void annotator_graph_check(const ModelBundle& bundle) {
  for (const auto& s : bundle.stages)
    if (s.mil_components > 0)
      throw Error("stage " + s.stage_range +
                  " is an attention-MIL bag model (train --bag-pool attention): it scores a "
                  "gene x stage-range group of images together, and the ONNX graph scores one "
                  "image at a time");
}

OnnxGraph annotator_graph(const ExportNet& net, const ModelBundle& bundle) {
  annotator_graph_check(bundle);
  const auto pooling = bundle.recipe.attributes.find("pooling");
  const PoolGrid pool = parse_pool_grid(
      pooling == bundle.recipe.attributes.end() || pooling->second.empty() ? "none"
                                                                           : pooling->second);
  std::vector<std::string> names;
  for (const auto& l : bundle.recipe.layers) names.push_back(l.name);
  OnnxGraph g;
  std::map<std::string, std::string> taps;  // recipe layer -> graph value
  try {
    taps = backbone_taps(g, net, names);
  } catch (const Error& e) {
    throw Error(std::string("the recipe's ") + e.what());
  }
  std::vector<std::string> parts;
  for (const auto& l : bundle.recipe.layers) parts.push_back(pooled(g, taps[l.name], l, pool));
  const std::string features =
      parts.size() == 1 ? parts[0] : g.node("Concat", parts, "features", {A::integer("axis", 1)});
  for (const auto& s : bundle.stages) {
    if (s.weights.size() == 0) throw Error("stage " + s.stage_range + ": weights not loaded");
    const std::string z = bundle_preprocessing(g, features, bundle, s);
    const std::string name = score_output_name(s.stage_range);
    g.output(stage_scores(g, z, bundle, s), name, OnnxType::kFloat,
             {-1, static_cast<int64_t>(s.terms.size())});
  }
  return g;
}

OnnxGraph backbone_graph(const ExportNet& net, const std::vector<std::string>& layers) {
  if (layers.empty()) throw Error("backbone_graph: no layer given");
  OnnxGraph g;
  const auto taps = backbone_taps(g, net, layers);
  for (const auto& name : layers) {
    const bool vector = std::any_of(net.stages.begin(), net.stages.end(), [&](const auto& s) {
      return s.name == name &&
             (s.kind == ExportStage::Kind::kGlobalAvgPool || s.kind == ExportStage::Kind::kLinear);
    });
    const int64_t any = OnnxGraph::kUnknownDim;
    g.output(taps.at(name), "features_" + name, OnnxType::kFloat,
             vector ? std::vector<int64_t>{-1, any} : std::vector<int64_t>{-1, any, any, any});
  }
  return g;
}

}  // namespace ishannot
