// ONNX protobuf writer (include/ishannot/onnx/onnx_graph.h). Field numbers from onnx/onnx.proto.
#include "ishannot/onnx/onnx_graph.h"

#include <cstring>

#include "ishannot/common/assert.h"

namespace ishannot {

namespace {

// --- protobuf wire format: varints, length-delimited fields, 32-bit floats ------------------
void varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}
void tag(std::string& out, int field, int wire) {
  varint(out, (uint64_t(field) << 3) | wire);
}
void int_field(std::string& out, int field, int64_t v) {
  tag(out, field, 0);
  varint(out, static_cast<uint64_t>(v));
}
void bytes_field(std::string& out, int field, const std::string& bytes) {
  tag(out, field, 2);
  varint(out, bytes.size());
  out += bytes;
}
void float_field(std::string& out, int field, float v) {
  tag(out, field, 5);
  char b[4];
  std::memcpy(b, &v, 4);  // little-endian hosts only (x86-64, arm64)
  out.append(b, 4);
}

std::string tensor_proto(const std::string& name, const std::vector<int64_t>& dims, OnnxType type,
                         const void* data, size_t bytes) {
  std::string t;
  for (int64_t d : dims) int_field(t, 1, d);                              // dims
  int_field(t, 2, static_cast<int32_t>(type));                            // data_type
  bytes_field(t, 8, name);                                                // name
  bytes_field(t, 9, std::string(static_cast<const char*>(data), bytes));  // raw_data
  return t;
}

std::string value_info(const std::string& name, OnnxType type, const std::vector<int64_t>& dims,
                       const std::string& symbol) {
  std::string shape;
  for (int64_t d : dims) {
    std::string dim;
    if (d >= 0)
      int_field(dim, 1, d);  // dim_value
    else if (d != OnnxGraph::kUnknownDim)
      bytes_field(dim, 2, symbol);  // dim_param
    // kUnknownDim: an empty Dimension (neither value nor name)
    bytes_field(shape, 1, dim);
  }
  std::string tensor;
  int_field(tensor, 1, static_cast<int32_t>(type));  // elem_type
  bytes_field(tensor, 2, shape);                     // shape
  std::string type_proto;
  bytes_field(type_proto, 1, tensor);  // tensor_type
  std::string v;
  bytes_field(v, 1, name);
  bytes_field(v, 2, type_proto);
  return v;
}

std::string attribute_proto(const OnnxAttribute& a) {
  std::string out;
  bytes_field(out, 1, a.name);
  using K = OnnxAttribute::Kind;
  switch (a.kind) {
    case K::kInt:
      int_field(out, 3, a.i);
      int_field(out, 20, 2);
      break;
    case K::kInts:
      for (int64_t v : a.ints) int_field(out, 8, v);
      int_field(out, 20, 7);
      break;
    case K::kFloat:
      float_field(out, 2, a.f);
      int_field(out, 20, 1);
      break;
    case K::kFloats:
      for (float v : a.floats) float_field(out, 7, v);
      int_field(out, 20, 6);
      break;
    case K::kString:
      bytes_field(out, 4, a.s);
      int_field(out, 20, 3);
      break;
  }
  return out;
}

}  // namespace

OnnxAttribute OnnxAttribute::integer(const std::string& name, int64_t v) {
  OnnxAttribute a;
  a.name = name;
  a.kind = Kind::kInt;
  a.i = v;
  return a;
}
OnnxAttribute OnnxAttribute::integers(const std::string& name, std::vector<int64_t> v) {
  OnnxAttribute a;
  a.name = name;
  a.kind = Kind::kInts;
  a.ints = std::move(v);
  return a;
}
OnnxAttribute OnnxAttribute::real(const std::string& name, float v) {
  OnnxAttribute a;
  a.name = name;
  a.kind = Kind::kFloat;
  a.f = v;
  return a;
}
OnnxAttribute OnnxAttribute::text(const std::string& name, const std::string& v) {
  OnnxAttribute a;
  a.name = name;
  a.kind = Kind::kString;
  a.s = v;
  return a;
}

std::string OnnxGraph::unique(const std::string& name) {
  const int n = used_[name]++;
  return n == 0 ? name : name + "_" + std::to_string(n);
}

void OnnxGraph::input(const std::string& name, OnnxType type, const std::vector<int64_t>& dims,
                      const std::string& symbol) {
  ++used_[name];
  inputs_.push_back(value_info(name, type, dims, symbol));
}

void OnnxGraph::output(const std::string& value, const std::string& name, OnnxType type,
                       const std::vector<int64_t>& dims, const std::string& symbol) {
  std::string out = value;
  if (value != name) {
    ISHANNOT_ASSERT(used_.count(name) == 0, "an output name used twice");
    ++used_[name];
    std::string n;
    bytes_field(n, 1, value);
    bytes_field(n, 2, name);
    bytes_field(n, 3, name + "_identity");
    bytes_field(n, 4, "Identity");
    nodes_.push_back(n);
  }
  outputs_.push_back(value_info(name, type, dims, symbol));
}

std::string OnnxGraph::constant(const std::string& name, const std::vector<int64_t>& dims,
                                const std::vector<float>& values) {
  const std::string n = unique(name);
  initializers_.push_back(
      tensor_proto(n, dims, OnnxType::kFloat, values.data(), values.size() * sizeof(float)));
  return n;
}

std::string OnnxGraph::constant_int64(const std::string& name, const std::vector<int64_t>& dims,
                                      const std::vector<int64_t>& values) {
  const std::string n = unique(name);
  initializers_.push_back(
      tensor_proto(n, dims, OnnxType::kInt64, values.data(), values.size() * sizeof(int64_t)));
  return n;
}

std::string OnnxGraph::node(const std::string& op_type, const std::vector<std::string>& inputs,
                            const std::string& name, const std::vector<OnnxAttribute>& attributes) {
  const std::string out = unique(name);
  std::string n;
  for (const auto& in : inputs) bytes_field(n, 1, in);  // input
  bytes_field(n, 2, out);                               // output
  bytes_field(n, 3, out);                               // name
  bytes_field(n, 4, op_type);                           // op_type
  for (const auto& a : attributes) bytes_field(n, 5, attribute_proto(a));
  nodes_.push_back(n);
  return out;
}

std::string OnnxGraph::serialize(const OnnxModelInfo& info) const {
  std::string graph;
  for (const auto& n : nodes_) bytes_field(graph, 1, n);
  bytes_field(graph, 2, info.graph_name);
  for (const auto& t : initializers_) bytes_field(graph, 5, t);
  if (!info.doc_string.empty()) bytes_field(graph, 10, info.doc_string);
  for (const auto& v : inputs_) bytes_field(graph, 11, v);
  for (const auto& v : outputs_) bytes_field(graph, 12, v);
  std::string model;
  int_field(model, 1, 7);  // ir_version 7 (opset 13)
  bytes_field(model, 2, info.producer_name);
  bytes_field(model, 3, info.producer_version);
  if (!info.doc_string.empty()) bytes_field(model, 6, info.doc_string);
  bytes_field(model, 7, graph);
  std::string opset;
  bytes_field(opset, 1, "");
  int_field(opset, 2, 13);
  bytes_field(model, 8, opset);
  for (const auto& [key, value] : info.metadata) {
    std::string entry;
    bytes_field(entry, 1, key);
    bytes_field(entry, 2, value);
    bytes_field(model, 14, entry);
  }
  return model;
}

}  // namespace ishannot
