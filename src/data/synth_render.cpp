// Rendering one synthetic ISH image (see include/ishannot/synth.h). Pixel model:
//   colour = tissue * texture * exp(-stain * absorbance)   inside the embryo (soft outline),
//            white-ish background outside,
// with stain = 1 - prod over terms (1 - strength * density) (the union of the patterns), computed
// at half resolution (the patterns are smooth) and upsampled. Absorbance per channel comes from
// real BDGP images: a strongly stained region reads about RGB (60, 50, 170) on RGB (230, 228, 215)
// tissue.
#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "data/synth_model.h"
#include "data/synth_render.h"
#include "detail/rng.h"
#include "ishannot/data/dataset.h"
#include "ishannot/data/synth.h"

namespace ishannot {
namespace detail {
namespace {

constexpr int kWidth = 320, kHeight = 128;

// The random streams of one image, derived from the group's and the image's seeds (seed.h).
enum RenderStream : uint64_t {
  kClutterChoice = 0xC0,
  kClutterShapes = 0xC1,
  kGroupJitter = 0x6E,
  kImageJitter = 0x1D,
  kPixelNoise = 0x5D,  // OpenCV's generator: coarse textures, grain, sensor noise
};
constexpr double kSquare = 0.45;  // squircle parameter: 0 = ellipse, 1 = rectangle

double smoothstep(double e0, double e1, double x) {
  double t = std::clamp((x - e0) / (e1 - e0), 0.0, 1.0);
  return t * t * (3 - 2 * t);
}

struct ActivePattern {
  TermModel model;
  double strength = 1;
  double du = 0, dv = 0;  // shift of the pattern in embryo coordinates
  uint64_t salt = 0;      // for spots
};

// Expression outside the listed terms: 1-2 blobs or a few spots, fixed per group.
std::vector<Shape> clutter_shapes(uint64_t group_seed) {
  Rng rng = Rng::from_derived(group_seed, {kClutterShapes});
  std::vector<Shape> shapes;
  const int n = 1 + static_cast<int>(rng.below(2));
  for (int i = 0; i < n; ++i) {
    Shape s;
    if (rng.bernoulli(0.3)) {
      s.kind = Shape::kSpots;
      s.spot_p = rng.uniform(0.05, 0.15);
      s.u0 = rng.uniform(0.1, 0.5);
      s.u1 = s.u0 + rng.uniform(0.2, 0.4);
      s.v0 = rng.uniform(-1, 0);
      s.v1 = s.v0 + rng.uniform(0.5, 1);
    } else {
      s.kind = Shape::kBlob;
      s.u0 = rng.uniform(0.1, 0.9);
      s.v0 = rng.uniform(-0.8, 0.8);
      s.u1 = rng.uniform(0.03, 0.09);
      s.v1 = rng.uniform(0.12, 0.35);
    }
    s.level = rng.uniform(0.4, 0.9);
    shapes.push_back(s);
  }
  return shapes;
}

// A smooth random field in [0, 1] at full size: uniform noise on a coarse grid, cubic upsampling.
void smooth_noise(cv::RNG& rng, int cells_x, int cells_y, cv::Mat& full) {
  cv::Mat coarse(cells_y, cells_x, CV_32F);
  rng.fill(coarse, cv::RNG::UNIFORM, 0.0, 1.0);
  cv::resize(coarse, full, cv::Size(kWidth, kHeight), 0, 0, cv::INTER_CUBIC);
}

}  // namespace

bool group_has_clutter(uint64_t group_seed, double probability) {
  return Rng::from_derived(group_seed, {kClutterChoice}).bernoulli(probability);
}

// A documented numeric kernel (allowed to be long, ARCHITECTURE.md): one pass over each pixel
// buffer in the order patterns -> outline -> textures -> stain (half resolution) -> colour.
cv::Mat render_group_image(const std::vector<std::string>& terms, const std::string& stage,
                           uint64_t group_seed, uint64_t image_seed, double var, bool with_clutter,
                           const SynthParams& params, std::vector<cv::Mat>* masks) {
  Rng group_rng = Rng::from_derived(group_seed, {kGroupJitter});
  Rng rng = Rng::from_derived(image_seed, {kImageJitter});
  cv::RNG cv_rng(derive_seed(image_seed, {kPixelNoise}));

  // Patterns: the group's terms (jittered per group, then per image) and clutter.
  std::vector<ActivePattern> patterns;
  std::vector<int> term_of_pattern;  // index into terms (-1: clutter)
  for (const auto& term : terms) {
    ActivePattern p;
    p.model = spatial_model(term, stage);
    p.du = var * (0.02 * group_rng.normal() + 0.01 * rng.normal());
    p.dv = var * (0.05 * group_rng.normal() + 0.03 * rng.normal());
    p.strength = 1.0 - var * rng.uniform(0.0, 0.35);
    if (var > 0 && rng.bernoulli(params.weak_pattern)) p.strength *= rng.uniform(0.25, 0.5);
    if (var > 0 && rng.bernoulli(params.missing_pattern)) continue;
    p.salt = group_rng.next();
    patterns.push_back(std::move(p));
    term_of_pattern.push_back(static_cast<int>(&term - terms.data()));
  }
  if (with_clutter) {
    ActivePattern p;
    p.model.shapes = clutter_shapes(group_seed);
    p.strength = rng.uniform(0.6, 1.0);
    p.salt = group_rng.next();
    patterns.push_back(std::move(p));
    term_of_pattern.push_back(-1);
  }

  // Embryo placement and outline.
  const double cx = kWidth / 2.0 + var * 4 * rng.normal();
  const double cy = kHeight / 2.0 + var * 2 * rng.normal();
  const double a = 152 * (1 + var * 0.025 * rng.normal());
  const double b = 58 * (1 + var * 0.035 * rng.normal());
  const double theta = var * 0.03 * rng.normal();  // radians (~1.7 degrees)
  double amp[6] = {0}, phase[6] = {0};
  for (int k = 2; k < 6; ++k) {
    amp[k] = (0.004 + var * 0.01) * rng.normal() / (k - 1);
    phase[k] = rng.uniform(0, 6.283185307179586);
  }
  const double cos_t = std::cos(theta), sin_t = std::sin(theta);
  double cos_phase[6], sin_phase[6];
  for (int k = 0; k < 6; ++k) {
    cos_phase[k] = std::cos(phase[k]);
    sin_phase[k] = std::sin(phase[k]);
  }

  // Texture: coarse cell-ish mottling and fine grain, shared by tissue and stain; a smooth warp
  // that makes pattern edges wavy instead of geometric.
  // Full-size buffers are kept per thread: allocating ~2 MB per image costs more in page faults
  // than the rendering.
  struct Scratch {
    cv::Mat coarse, medium, warp_u, warp_v, stain, stain_full, alpha, depth, grain, out, noise;
  };
  thread_local Scratch scratch;
  cv::Mat& coarse = scratch.coarse;
  cv::Mat& medium = scratch.medium;
  cv::Mat& warp_u = scratch.warp_u;
  cv::Mat& warp_v = scratch.warp_v;
  smooth_noise(cv_rng, 80, 32, coarse);
  smooth_noise(cv_rng, 24, 10, medium);
  smooth_noise(cv_rng, 14, 6, warp_u);
  smooth_noise(cv_rng, 14, 6, warp_v);
  const double warp = 0.4 + 0.6 * var;

  // Stain at half resolution.
  const int hw = kWidth / 2, hh = kHeight / 2;
  cv::Mat& stain = scratch.stain;
  stain.create(hh, hw, CV_32F);
  stain.setTo(0);
  cv::Mat& alpha = scratch.alpha;
  cv::Mat& depth = scratch.depth;
  alpha.create(kHeight, kWidth, CV_32F);
  depth.create(kHeight, kWidth, CV_32F);
  auto embryo_coords = [&](double x, double y, double* u, double* v, double* d, double* in) {
    const double dx = x - cx, dy = y - cy;
    const double ex = (cos_t * dx + sin_t * dy) / a, ey = -(-sin_t * dx + cos_t * dy) / b;
    // A squircle (Fernandez-Guasti) rather than an ellipse: ends fuller, like a real embryo.
    const double r = std::sqrt(std::max(0.0, ex * ex + ey * ey - kSquare * ex * ex * ey * ey));
    // R(phi) = 1 + sum_k amp_k cos(k phi + phase_k), with cos/sin of k phi by complex powers
    // of (ex, ey) / r (no trigonometric calls per pixel).
    const double c1 = r > 1e-9 ? ex / r : 1.0, s1 = r > 1e-9 ? ey / r : 0.0;
    double ck = c1, sk = s1, R = 1;
    for (int k = 2; k < 6; ++k) {
      const double c = ck * c1 - sk * s1, s = sk * c1 + ck * s1;
      ck = c;
      sk = s;
      R += amp[k] * (ck * cos_phase[k] - sk * sin_phase[k]);
    }
    *in = 1 - smoothstep(R - 0.012, R + 0.006, r);
    const double xs = std::clamp(ex / R, -1.0, 1.0);
    *u = (xs + 1) / 2;
    const double half_height = std::sqrt(std::max(1e-3, (1 - xs * xs) / (1 - kSquare * xs * xs)));
    *v = std::clamp(ey / R / half_height, -1.0, 1.0);
    *d = std::clamp(1 - r / R, 0.0, 1.0);
  };
  for (int y = 0; y < kHeight; ++y) {
    for (int x = 0; x < kWidth; ++x) {
      double u, v, d, in;
      embryo_coords(x + 0.5, y + 0.5, &u, &v, &d, &in);
      alpha.at<float>(y, x) = static_cast<float>(in);
      depth.at<float>(y, x) = static_cast<float>(d);
    }
  }
  std::vector<cv::Mat> half_masks(masks ? terms.size() : 0);
  for (auto& m : half_masks) m = cv::Mat::zeros(hh, hw, CV_8U);
  if (!patterns.empty()) {
    for (int y = 0; y < hh; ++y) {
      for (int x = 0; x < hw; ++x) {
        double u, v, d, in;
        embryo_coords(2 * x + 1.0, 2 * y + 1.0, &u, &v, &d, &in);
        if (in <= 0 && d <= 0) continue;
        u += warp * 0.03 * (warp_u.at<float>(2 * y, 2 * x) - 0.5);
        v += warp * 0.25 * (warp_v.at<float>(2 * y, 2 * x) - 0.5);
        double clear = 1;
        for (size_t k = 0; k < patterns.size(); ++k) {
          const auto& p = patterns[k];
          double density = 0;
          for (const auto& s : p.model.shapes)
            density += shape_density(s, u - p.du, std::clamp(v - p.dv, -1.0, 1.0), d, 2 * x, 2 * y,
                                     p.salt);
          clear *= 1 - p.strength * std::clamp(density, 0.0, 1.0);
          if (masks && term_of_pattern[k] >= 0 && in > 0.5 && density >= 0.5)
            half_masks[static_cast<size_t>(term_of_pattern[k])].at<uchar>(y, x) = 255;
        }
        stain.at<float>(y, x) = static_cast<float>(1 - clear);
      }
    }
  }
  if (masks) {
    masks->assign(terms.size(), cv::Mat());
    for (size_t t = 0; t < terms.size(); ++t)
      cv::resize(half_masks[t], (*masks)[t], cv::Size(kWidth, kHeight), 0, 0, cv::INTER_NEAREST);
  }
  cv::Mat& stain_full = scratch.stain_full;
  cv::resize(stain, stain_full, cv::Size(kWidth, kHeight), 0, 0, cv::INTER_LINEAR);

  cv::Mat& grain = scratch.grain;
  grain.create(kHeight, kWidth, CV_32F);
  cv_rng.fill(grain, cv::RNG::NORMAL, 0.0, 1.0);
  cv::GaussianBlur(grain, grain, cv::Size(0, 0), 0.8);

  // Colours (RGB), per-image tint.
  const double tint = var * rng.normal();
  const double tissue[3] = {226 + 6 * tint, 225 + 4 * tint, 214 - 3 * tint};
  const double background = 252 + var * 2 * rng.normal();
  static constexpr double absorbance[3] = {1.35, 1.5, 0.23};  // R, G, B
  const double stain_gain = 1.0 + var * rng.uniform(-0.25, 0.35);

  // exp(-s * absorbance) from a table: s in [0, kStainMax) in steps of 1 / kStainSteps.
  constexpr int kStainSteps = 4096, kStainMax = 4;
  static const std::vector<float> transmittance = [&] {
    std::vector<float> table(3 * kStainSteps * kStainMax);
    for (int i = 0; i < kStainSteps * kStainMax; ++i)
      for (int c = 0; c < 3; ++c)
        table[3 * i + c] = static_cast<float>(std::exp(-absorbance[c] * i / kStainSteps));
    return table;
  }();
  cv::Mat& out = scratch.out;
  out.create(kHeight, kWidth, CV_32FC3);
  for (int y = 0; y < kHeight; ++y) {
    const float* in_row = alpha.ptr<float>(y);
    const float* depth_row = depth.ptr<float>(y);
    const float* coarse_row = coarse.ptr<float>(y);
    const float* grain_row = grain.ptr<float>(y);
    const float* medium_row = medium.ptr<float>(y);
    const float* stain_row = stain_full.ptr<float>(y);
    cv::Vec3f* out_row = out.ptr<cv::Vec3f>(y);
    for (int x = 0; x < kWidth; ++x) {
      const double in = in_row[x];
      if (in <= 0) {
        out_row[x] = cv::Vec3f::all(static_cast<float>(background));
        continue;
      }
      const double tex = 0.93 + 0.1 * coarse_row[x] + 0.03 * grain_row[x];
      const double rim_shade = 0.9 + 0.1 * smoothstep(0.0, 0.1, depth_row[x]);
      const double s =
          stain_row[x] * stain_gain * (0.75 + 0.35 * medium_row[x]) * (0.85 + 0.3 * coarse_row[x]);
      const int index =
          std::clamp(static_cast<int>(s * kStainSteps + 0.5), 0, kStainSteps * kStainMax - 1);
      const float* t = &transmittance[3 * index];
      cv::Vec3f px;
      for (int c = 0; c < 3; ++c) {
        const double lit = tissue[c] * tex * rim_shade * t[c];
        px[2 - c] = static_cast<float>(in * lit + (1 - in) * background);  // BGR
      }
      out_row[x] = px;
    }
  }
  const double sigma = 0.5 + var * rng.uniform(0.0, 0.9);
  cv::GaussianBlur(out, out, cv::Size(0, 0), sigma);
  if (var > 0 && params.noise > 0) {
    cv::Mat& noise = scratch.noise;
    noise.create(kHeight, kWidth, CV_32FC3);
    cv_rng.fill(noise, cv::RNG::NORMAL, 0.0, params.noise * var);
    out += noise;
  }
  cv::Mat bgr;
  out.convertTo(bgr, CV_8UC3);  // saturating, rounding
  return bgr;
}

}  // namespace detail

cv::Mat render_synthetic_image(const std::vector<std::string>& terms,
                               const std::string& stage_range, uint64_t seed, double variation,
                               const SynthParams& params) {
  const std::string stage = normalise_stage_range(stage_range);
  const bool clutter = variation > 0 && detail::group_has_clutter(seed, params.clutter);
  return detail::render_group_image(terms, stage, seed, seed + 1, std::clamp(variation, 0.0, 1.0),
                                    clutter, params);
}

std::string synthetic_term_model(const std::string& term, const std::string& stage_range) {
  return detail::spatial_model(term, normalise_stage_range(stage_range)).description;
}

}  // namespace ishannot
