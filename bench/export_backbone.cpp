// The backbone alone as ONNX (onnx/annotator_graph.h backbone_graph), from ishannot's own weight
// loader (BatchNorm folded, as extract runs it): the ONNX Runtime peer of bench/bench_ort_peer.sh
// runs this graph, so both sides compute the same network from the same weights.
//
//   ishannot_export_backbone WEIGHTS|default LAYERS WxH OUT.onnx
// LAYERS: comma-separated taps (res4f); input: uint8 RGB [batch, H, W, 3]; outputs
// features_<layer>, float NCHW.
#include <cstdio>
#include <fstream>
#include <sstream>

#include "ishannot/common/error.h"
#include "ishannot/nets/backbone.h"
#include "ishannot/nets/onnx_export.h"

using namespace ishannot;

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s WEIGHTS|default LAYERS WxH OUT.onnx\n", argv[0]);
    return 2;
  }
  try {
    const std::string weights = argv[1] == std::string("default") ? "" : argv[1];
    std::vector<std::string> layers;
    std::stringstream list(argv[2]);
    for (std::string l; std::getline(list, l, ',');) layers.push_back(l);
    int width = 0, height = 0;
    if (std::sscanf(argv[3], "%dx%d", &width, &height) != 2 || width < 1 || height < 1)
      throw Error(std::string("size '") + argv[3] + "': expected WxH");
    const auto net = load_backbone("resnet50", weights);
    OnnxModelInfo info;
    info.doc_string = "ResNet50 up to " + std::string(argv[2]) + " from " + net->weights_path();
    const std::string bytes =
        backbone_graph(export_net(*net, layers, width, height), layers).serialize(info);
    std::ofstream out(argv[4], std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw Error(std::string(argv[4]) + ": cannot write");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "export_backbone: %s\n", e.what());
    return 1;
  }
  return 0;
}
