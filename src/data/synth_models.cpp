// Spatial models of CV terms for the synthetic generator (see src/data/synth_model.h). The
// geometry follows Drosophila embryo anatomy in a lateral view, anterior left, dorsal up, and
// changes with stage: at 7-8 and 9-10 the germ band is extended, so posterior structures (posterior
// endoderm, hindgut) sit on the dorsal side; from 11-12 internal organs (midgut, brain, VNC) form.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

#include "data/synth_model.h"

namespace ishannot::detail {
namespace {

Shape everywhere(double level = 1) {
  Shape s;
  s.kind = Shape::kEverywhere;
  s.level = level;
  return s;
}
Shape rim(double depth, double level = 1) {
  Shape s;
  s.kind = Shape::kRim;
  s.d_max = depth;
  s.level = level;
  return s;
}
Shape blob(double u, double v, double ru, double rv, double level = 1) {
  Shape s;
  s.kind = Shape::kBlob;
  s.u0 = u;
  s.v0 = v;
  s.u1 = ru;
  s.v1 = rv;
  s.level = level;
  return s;
}
Shape band(double u0, double u1, double v0, double v1, double d_max = 1, double level = 1) {
  Shape s;
  s.kind = Shape::kBand;
  s.u0 = u0;
  s.u1 = u1;
  s.v0 = v0;
  s.v1 = v1;
  s.d_max = d_max;
  s.level = level;
  return s;
}
Shape stripes(int n, double u0, double u1, double v0, double v1, double duty, double tilt = 0,
              double d_max = 1) {
  Shape s = band(u0, u1, v0, v1, d_max);
  s.kind = Shape::kStripes;
  s.count = n;
  s.duty = duty;
  s.tilt = tilt;
  return s;
}
Shape spots(double p, double u0, double u1, double v0, double v1) {
  Shape s = band(u0, u1, v0, v1);
  s.kind = Shape::kSpots;
  s.spot_p = p;
  return s;
}

bool has(const std::string& text, const char* word) {
  return text.find(word) != std::string::npos;
}

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}

TermModel model(std::vector<Shape> shapes, std::string description) {
  return {std::move(shapes), std::move(description)};
}

}  // namespace

TermModel spatial_model(const std::string& term_in, const std::string& stage) {
  std::string t = term_in;
  for (auto& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const bool blastoderm = stage == "1-3" || stage == "4-6";
  const bool extended = stage == "7-8" || stage == "9-10";  // germ band extended
  const bool late = stage == "11-12" || stage == "13-16";

  // Non-spatial terms.
  if (has(t, "no staining")) return model({}, "no stain");
  if (has(t, "faint ubiquitous")) return model({everywhere(0.22)}, "weak stain everywhere");
  if (has(t, "strong ubiquitous")) return model({everywhere(1.0)}, "strong stain everywhere");
  if (has(t, "ubiquitous")) return model({everywhere(0.6)}, "stain everywhere");
  if (has(t, "maternal"))
    return model({everywhere(0.45), blob(0.97, 0, 0.06, 0.5, 0.6)},
                 "moderate stain everywhere, stronger at the posterior pole");
  if (has(t, "subset"))
    return model({spots(0.22, 0.05, 0.95, -0.9, 0.9)},
                 "scattered single cells (dots) over the embryo");
  if (has(t, "cellular blastoderm"))
    return model({rim(0.16, 0.8)}, "the peripheral cell layer all around the outline");
  if (has(t, "pole cell") || has(t, "pole plasm") || has(t, "germ cell"))
    return late ? model({blob(0.62, 0.3, 0.05, 0.2)}, "gonad clusters, dorsal posterior-central")
                : model({blob(0.98, 0.1, 0.05, 0.4)}, "a cap at the posterior pole");

  // Gut.
  if (has(t, "posterior endoderm") || has(t, "posterior midgut")) {
    if (blastoderm) return model({band(0.86, 1.0, -1, 1)}, "posterior cap (u > 0.86)");
    if (extended)
      return model({blob(0.74, 0.45, 0.09, 0.4)}, "dorsal-posterior pocket (germ band extended)");
    return model({blob(0.68, 0.05, 0.13, 0.4)}, "internal posterior-central mass");
  }
  if (has(t, "anterior endoderm") || has(t, "anterior midgut")) {
    if (blastoderm || extended)
      return model({blob(0.12, -0.45, 0.07, 0.35)}, "anterior-ventral pocket");
    return model({blob(0.32, 0.0, 0.11, 0.4)}, "internal anterior-central mass");
  }
  if (has(t, "midgut") || has(t, "endoderm"))
    return model({blob(0.5, 0.0, 0.27, 0.45), blob(0.38, 0.0, 0.05, 0.5, -0.6),
                  blob(0.6, 0.0, 0.04, 0.5, -0.6)},
                 "large central midgut with two constrictions");
  if (has(t, "hindgut") || has(t, "proctodeum")) {
    if (blastoderm)
      return model({band(0.8, 0.87, -1, 1)}, "a ring just anterior to the posterior cap");
    if (extended)
      return model({blob(0.62, 0.8, 0.05, 0.2)}, "small dorsal spot (extended germ band tip)");
    return model({blob(0.88, 0.15, 0.05, 0.35), blob(0.8, 0.3, 0.06, 0.15)},
                 "posterior hook-shaped tube");
  }
  if (has(t, "foregut") || has(t, "pharyn") || has(t, "stomodeum") || has(t, "esophag"))
    return model({blob(0.1, -0.15, 0.045, 0.25)}, "small anterior blob (stomodeum / foregut)");
  if (has(t, "epipharynx") || has(t, "hypopharynx") || has(t, "labr"))
    return model({blob(0.05, -0.35, 0.03, 0.2)}, "tiny anterior-ventral tip structure");
  if (has(t, "malpighian"))
    return model({blob(0.75, 0.1, 0.05, 0.15), blob(0.7, -0.15, 0.04, 0.1)},
                 "two small posterior-central tubules");
  if (has(t, "salivary"))
    return model({blob(0.2, -0.55, 0.05, 0.15)}, "anterior-ventral gland pair");

  // Nervous system.
  if (has(t, "brain") || has(t, "procephalic neuro"))
    return model({blob(0.13, 0.3, 0.08, 0.45), blob(0.2, 0.1, 0.05, 0.3)},
                 "bilobed anterior-dorsal brain");
  if (has(t, "ventral nerve cord") || has(t, "central nervous") || has(t, "lateral cord") ||
      has(t, "neuroblast") || has(t, "ganglion mother") || has(t, "glia")) {
    if (has(t, "anlage"))
      return model({band(0.25, 0.8, -1, -0.72, 0.22)}, "thin ventral surface stripe");
    if (has(t, "primordium") && extended)
      return model({stripes(14, 0.25, 0.95, -1, -0.65, 0.5)}, "ventral row of segmental dots");
    Shape vnc = band(0.2, 0.95, -1, -0.5, 1);
    if (has(t, "central nervous"))
      return model({vnc, blob(0.13, 0.3, 0.08, 0.45, 0.8)}, "ventral cord plus brain");
    return model({vnc}, "thick ventral band from head to tail (ventral nerve cord)");
  }
  if (has(t, "sensory") || has(t, "peripheral nervous"))
    return model({spots(0.12, 0.15, 0.95, -0.5, 0.6)}, "sparse lateral dots (sense organs)");
  if (has(t, "trache"))
    return model({stripes(10, 0.25, 0.9, -0.1, 0.35, 0.3)}, "lateral row of segmental pits");

  // Ectoderm and epidermis.
  if (has(t, "procephalic") || has(t, "head epidermis") || has(t, "head ectoderm") ||
      has(t, "visual") || has(t, "clypeo"))
    return model({band(0.02, 0.22, -0.3, 1, late ? 0.3 : 1)},
                 "anterior head cap, dorsal two thirds");
  if (has(t, "dorsal ectoderm") || has(t, "dorsal epidermis") || has(t, "amnioserosa")) {
    if (late)
      return model({stripes(11, 0.15, 0.95, 0.3, 1, 0.65, 0, 0.22)},
                   "dorsal surface, segmentally modulated");
    return model({band(0.15, extended ? 0.65 : 0.9, 0.3, 1)}, "dorsal band (v > 0.3)");
  }
  if (has(t, "ventral ectoderm") || has(t, "ventral epidermis")) {
    if (late)
      return model({stripes(11, 0.2, 0.95, -1, -0.3, 0.55, 0, 0.22)},
                   "ventral surface belts (segmental)");
    return model({band(0.2, 0.9, -0.8, -0.15)}, "ventral-lateral band (-0.8 < v < -0.15)");
  }
  if (has(t, "epiderm") || has(t, "ectoderm"))
    return model({rim(0.2, 0.8)}, "surface layer (epidermis)");

  // Mesoderm and muscle.
  if (has(t, "head mesoderm"))
    return model({blob(0.25, -0.3, 0.06, 0.25)}, "anterior-ventral cluster behind the head");
  if (has(t, "visceral"))
    return model({band(0.3, 0.8, -0.35, 0.35, 1, 0.7)}, "thin band around the central gut");
  if (has(t, "muscle"))
    return model({stripes(11, 0.18, 0.92, -0.65, 0.65, 0.22, 0.35)},
                 "thin oblique segmental stripes");
  if (has(t, "mesoderm")) {
    if (blastoderm)
      return model({band(0.15, 0.9, -1, -0.62)}, "ventral-most strip (presumptive mesoderm)");
    if (stage == "7-8")
      return model({band(0.22, 0.85, -0.95, -0.55), band(0.55, 0.85, 0.45, 0.95)},
                   "ventral internal band continuing over the dorsal-posterior germ band");
    return model({stripes(11, 0.25, 0.92, -0.85, 0.45, 0.55)}, "segmental mesoderm blocks");
  }
  if (has(t, "fat body"))
    return model({band(0.3, 0.85, 0.1, 0.55, 0.6)}, "lateral band of fat body");
  if (has(t, "anlage in statu nascendi") && t == "anlage in statu nascendi")
    return model({stripes(7, 0.2, 0.86, -1, 1, 0.45)}, "seven broad stripes (pair-rule like)");

  // Anything else: a blob fixed by the name (still learnable, different per term).
  const uint64_t h = fnv1a(t);
  auto frac = [&](int shift) { return static_cast<double>((h >> shift) & 0xFFFF) / 65535.0; };
  const double u = 0.12 + 0.76 * frac(0), v = -0.7 + 1.4 * frac(16);
  char text[128];
  std::snprintf(text, sizeof text, "no anatomical rule: a blob at u=%.2f v=%.2f fixed by the name",
                u, v);
  return model({blob(u, v, 0.04 + 0.07 * frac(32), 0.15 + 0.25 * frac(48))}, text);
}

namespace {
double smoothstep(double e0, double e1, double x) {
  double t = std::clamp((x - e0) / (e1 - e0), 0.0, 1.0);
  return t * t * (3 - 2 * t);
}
// 1 inside [lo, hi], soft by `soft` on both sides.
double box(double x, double lo, double hi, double soft) {
  return smoothstep(lo - soft, lo + soft, x) * (1 - smoothstep(hi - soft, hi + soft, x));
}
uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
}  // namespace

double shape_density(const Shape& s, double u, double v, double d, int x, int y, uint64_t salt) {
  const double depth = s.d_max >= 1 ? 1.0 : 1 - smoothstep(s.d_max - 0.04, s.d_max + 0.04, d);
  switch (s.kind) {
    case Shape::kEverywhere:
      return s.level;
    case Shape::kRim:
      return s.level * depth;
    case Shape::kBlob: {
      const double du = (u - s.u0) / s.u1, dv = (v - s.v0) / s.v1;
      return s.level * (1 - smoothstep(0.4, 1.15, du * du + dv * dv));
    }
    case Shape::kBand:
      return s.level * depth * box(u, s.u0, s.u1, 0.02) * box(v, s.v0, s.v1, 0.08);
    case Shape::kStripes: {
      const double region = depth * box(u, s.u0, s.u1, 0.02) * box(v, s.v0, s.v1, 0.08);
      if (region <= 0) return 0;
      double phase = (u - s.u0) / (s.u1 - s.u0) * s.count + s.tilt * v;
      phase -= std::floor(phase);
      const double soft = 0.08;
      return s.level * region * box(phase, soft, s.duty, soft);
    }
    case Shape::kSpots: {
      const double region = box(u, s.u0, s.u1, 0.02) * box(v, s.v0, s.v1, 0.08);
      if (region <= 0) return 0;
      const int cell = 7;
      double best = 0;
      for (int cy = y / cell - 1; cy <= y / cell + 1; ++cy) {
        for (int cx = x / cell - 1; cx <= x / cell + 1; ++cx) {
          const uint64_t h = mix(salt ^ (static_cast<uint64_t>(cx + 1000) * 73856093ULL) ^
                                 (static_cast<uint64_t>(cy + 1000) * 19349663ULL));
          if (static_cast<double>(h & 0xFFFF) / 65535.0 >= s.spot_p) continue;
          const double px = cx * cell + ((h >> 16) & 0xFF) / 255.0 * cell;
          const double py = cy * cell + ((h >> 24) & 0xFF) / 255.0 * cell;
          const double r2 = (x - px) * (x - px) + (y - py) * (y - py);
          best = std::max(best, 1 - smoothstep(2.0, 7.0, r2));
        }
      }
      return s.level * region * best;
    }
  }
  return 0;
}

}  // namespace ishannot::detail
