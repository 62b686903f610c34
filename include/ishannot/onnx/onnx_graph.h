#pragma once
// A small ONNX writer: a graph of nodes, constant tensors (initializers), inputs and outputs,
// serialised as an ONNX ModelProto (protobuf wire format written directly: ir_version 7, the
// default domain at opset 13). Only what ishannot's export needs: FLOAT, UINT8 and INT64 tensors;
// int, ints, float, floats and string attributes; fixed or symbolic ("batch") dimensions. Debian
// packages no ONNX C++ library; the wire format of the handful of messages used here is a few
// dozen lines (onnx/onnx.proto: ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto,
// ValueInfoProto, TypeProto, TensorShapeProto). The output is checked by ONNX Runtime in the tests.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ishannot {

/// ONNX element types (TensorProto.DataType).
enum class OnnxType : int32_t { kFloat = 1, kUint8 = 2, kInt64 = 7 };

/// One node attribute.
struct OnnxAttribute {
  std::string name;
  enum class Kind { kInt, kInts, kFloat, kFloats, kString } kind = Kind::kInt;
  int64_t i = 0;
  std::vector<int64_t> ints;
  float f = 0;
  std::vector<float> floats;
  std::string s;

  static OnnxAttribute integer(const std::string& name, int64_t v);
  static OnnxAttribute integers(const std::string& name, std::vector<int64_t> v);
  static OnnxAttribute real(const std::string& name, float v);
  static OnnxAttribute text(const std::string& name, const std::string& v);
};

/// Model-level metadata (ModelProto's producer, doc string and metadata_props).
struct OnnxModelInfo {
  std::string producer_name = "ishannot", producer_version, doc_string, graph_name = "ishannot";
  std::map<std::string, std::string> metadata;
};

class OnnxGraph {
 public:
  /// A dimension the graph does not state (neither a number nor a name).
  static constexpr int64_t kUnknownDim = INT64_MIN;
  /// A graph input; a dimension < 0 is symbolic, named `symbol` ("batch"), except kUnknownDim.
  void input(const std::string& name, OnnxType type, const std::vector<int64_t>& dims,
             const std::string& symbol = "batch");
  /// A graph output (`value` becomes it: an Identity node is added when the names differ).
  void output(const std::string& value, const std::string& name, OnnxType type,
              const std::vector<int64_t>& dims, const std::string& symbol = "batch");
  /// Constant tensors (initializers); return their names (made unique).
  std::string constant(const std::string& name, const std::vector<int64_t>& dims,
                       const std::vector<float>& values);
  std::string constant_int64(const std::string& name, const std::vector<int64_t>& dims,
                             const std::vector<int64_t>& values);
  /// Adds a node; returns the name of its (first) output, `name` made unique.
  std::string node(const std::string& op_type, const std::vector<std::string>& inputs,
                   const std::string& name, const std::vector<OnnxAttribute>& attributes = {});

  /// The ModelProto bytes.
  std::string serialize(const OnnxModelInfo& info) const;

  size_t nodes() const { return nodes_.size(); }

 private:
  std::string unique(const std::string& name);
  std::map<std::string, int> used_;
  std::vector<std::string> nodes_, initializers_, inputs_, outputs_;  // serialised messages
};

}  // namespace ishannot
