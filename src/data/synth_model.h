#pragma once
// Internal: the spatial expression models of the synthetic ISH generator. A term's model is a
// union of shapes in embryo coordinates:
//   u  in [0, 1]   anterior (left) -> posterior (right), along the embryo's long axis;
//   v  in [-1, 1]  ventral (bottom) -> dorsal (top), normalised by the local half-height, so
//                  v = +-1 is the outline at every u;
//   d  in [0, 1]   depth: 0 on the outline, 1 at the centre (for surface vs. internal tissue).
#include <cstdint>
#include <string>
#include <vector>

namespace ishannot::detail {

struct Shape {
  enum Kind { kEverywhere, kRim, kBlob, kBand, kStripes, kSpots } kind = kEverywhere;
  double u0 = 0, u1 = 1, v0 = -1,
         v1 = 1;                ///< band/stripes: box; blob: centre (u0, v0), radii (u1, v1)
  double d_min = 0, d_max = 1;  ///< depth range (soft)
  int count = 0;                ///< stripes: number of stripes over [u0, u1]
  double duty = 0.5;            ///< stripes: stained fraction of a period
  double tilt = 0;              ///< stripes: phase shift per unit of v (oblique)
  double level = 1;             ///< stain strength of the shape
  double spot_p = 0.3;          ///< spots: chance a 7-px cell holds a dot
};

struct TermModel {
  std::vector<Shape> shapes;
  std::string description;  ///< one line for docs/DATA.md
};

/// The spatial model of a CV term at a stage range ("4-6" ...), from its anatomy (keyword rules);
/// a term no rule knows gets a blob whose place and size are fixed by a hash of its name.
TermModel spatial_model(const std::string& term, const std::string& stage_range);

/// Stain density of one shape at a point (0..1). `x`, `y` (pixels) and `salt` drive the spots.
double shape_density(const Shape& s, double u, double v, double d, int x, int y, uint64_t salt);

}  // namespace ishannot::detail
