#pragma once
// The package `ishannot export` writes (docs/SHARING.md): a folder a bioimage.io tool, ONNX
// Runtime or a person can use without ishannot.
//   model.onnx          the annotator (onnx/annotator_graph.h)
//   rdf.yaml            bioimage.io model description (format_version 0.5.3): inputs/outputs with
//                       axes, the preprocessing in words and as the graph does it, authors,
//                       licence, citations (Zhang et al. KDD 2015, FBbt when ids are given),
//                       every file with its SHA-256, the terms (with FBbt ids when the bundle
//                       records them) as the outputs' channel names
//   test_input.npy      uint8 [N, H, W, 3]: the test images as the graph takes them
//   test_output_<stage>.npy  float32 [N, T]: ishannot's own scores of those images (annotate's
//                       code path, not the graph's)
//   terms.tsv           stage_range output index term term_id
//   README.md, cover.png (a heat map of the test scores: images x terms)
// The folder is written as DIR.partial and renamed when complete.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ishannot/annotate/model_bundle.h"

namespace ishannot {

struct ModelPackage {
  std::string onnx;  ///< model.onnx bytes
  int width = 0, height = 0;
  std::string arch;                      ///< backbone
  std::string pixel_preprocessing;       ///< in words, for README and rdf.yaml
  std::vector<uint8_t> test_input;       ///< [N, H, W, 3] RGB
  std::vector<std::string> test_images;  ///< ids of the test images
  /// per stage range: [N, T] scores from ishannot
  std::map<std::string, std::vector<float>> test_scores;
  std::map<std::string, std::string> term_ids;  ///< term -> FBbt id (may be empty)
  std::string ontology;                         ///< "fbbt 2013-07-26" ("" = none)
  std::string tool_version, created_by;
};

/// Writes `pkg` for `bundle` into `dir` (DIR.partial, then renamed). An existing `dir` is an Error
/// unless `force` (then it is replaced once the new one is complete). Returns the files written.
std::vector<std::string> write_model_package(const std::string& dir, const ModelBundle& bundle,
                                             const ModelPackage& pkg, bool force);

/// Writes a NumPy .npy file (format 1.0, C order): "<f4" or "|u1".
void write_npy(const std::string& path, const std::vector<int64_t>& shape, const float* data);
void write_npy(const std::string& path, const std::vector<int64_t>& shape, const uint8_t* data);

}  // namespace ishannot
