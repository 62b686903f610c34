#pragma once
// How a CxHxW feature map becomes a vector: flattened whole (the paper), or pooled to a grid of
// GhxGw cells first. One spelling everywhere on the command line (extract, demo, baseline,
// finetune, train): "none" | [avg:|max:]GhxGw | [avg:|max:]G (= GxG) | avg | max (= 1x1, global).
// Grids are rows x columns, like map shapes ("1024x8x20" is C x H x W): ResNet50's res4f map of a
// 320x128 (W x H) BDGP image is 8x20, so "2x5" keeps its aspect.
#include <string>

namespace ishannot {

struct PoolGrid {
  int rows = 0;            ///< Gh; 0 (with cols 0) = no pooling, flatten the whole map
  int cols = 0;            ///< Gw
  std::string op = "avg";  ///< avg | max

  bool pooled() const { return rows > 0 && cols > 0; }
  /// The canonical text: "none", "avg:2x5", "max:1x1".
  std::string text() const;
  std::string check() const;
};

/// Parses the spelling above; throws Error quoting `text` and the accepted forms otherwise.
PoolGrid parse_pool_grid(const std::string& text);

}  // namespace ishannot
