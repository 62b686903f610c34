// The registration check annotate runs on its input images (standardize/registration_check.h).
#include "ishannot/standardize/registration_check.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "detail/parallel.h"
#include "detail/tsv.h"
#include "ishannot/common/error.h"
#include "ishannot/common/format.h"
#include "ishannot/image/image.h"
#include "ishannot/standardize/standardize.h"

namespace ishannot {

std::string RegistrationCheckParams::check() const {
  if (!(max_tilt_deg >= 0 && max_tilt_deg <= 90)) return "max tilt must be in 0..90 degrees";
  if (!(min_area_fraction >= 0 && min_area_fraction < 1)) return "min area must be in 0..1";
  if (!(min_flip_confidence >= 0.5 && min_flip_confidence <= 1))
    return "min flip confidence must be in 0.5..1";
  return "";
}

namespace {

std::string percent(double fraction) {
  return std::to_string(static_cast<int>(std::lround(100 * fraction))) + " %";
}

std::string confidence(double c) {
  char text[16];
  std::snprintf(text, sizeof text, "%.2f", c);
  return text;
}

}  // namespace

RegistrationCheck check_registration(const cv::Mat& bgr, const RegistrationCheckParams& params) {
  if (const std::string problem = params.check(); !problem.empty())
    throw Error("registration check: " + problem);
  RegistrationCheck c;
  c.read = !bgr.empty();
  if (!c.read) return c;
  const StandardizeResult r = standardize_image(bgr);
  c.found = r.found;
  if (!r.found) {
    c.concerns.push_back("no embryo found");
    return c;
  }
  c.angle_deg = r.angle_deg;
  c.area_fraction = r.area_fraction;
  c.ap_mirrored = r.ap_flipped;
  c.dv_mirrored = r.dv_flipped;
  c.ap_confidence = r.ap_confidence;
  c.dv_confidence = r.dv_confidence;
  if (std::abs(r.angle_deg) > params.max_tilt_deg)
    c.concerns.push_back("tilted " + std::to_string(static_cast<int>(std::lround(r.angle_deg))) +
                         " degrees");
  if (r.area_fraction < params.min_area_fraction)
    c.concerns.push_back("not cropped to the embryo (it covers " + percent(r.area_fraction) + ")");
  if (r.ap_flipped && r.ap_confidence >= params.min_flip_confidence)
    c.concerns.push_back("anterior looks right (confidence " + confidence(r.ap_confidence) + ")");
  if (r.dv_flipped && r.dv_confidence >= params.min_flip_confidence)
    c.concerns.push_back("dorsal looks down (confidence " + confidence(r.dv_confidence) + ")");
  return c;
}

std::vector<RegistrationCheck> check_registration(const std::vector<ImageRecord>& images,
                                                  const RegistrationCheckParams& params,
                                                  const Reporter& reporter) {
  if (const std::string problem = params.check(); !problem.empty())
    throw Error("registration check: " + problem);
  std::vector<RegistrationCheck> out(images.size());
  const auto n = static_cast<int64_t>(images.size());
  constexpr int64_t kChunk = 64;  // progress between chunks (the reporter is not thread-safe)
  reporter.report("check registration", 0, n);
  for (int64_t begin = 0; begin < n; begin += kChunk) {
    const int64_t end = std::min(n, begin + kChunk);
    detail::LoopErrors errors;
#pragma omp parallel for schedule(dynamic)
    for (int64_t i = begin; i < end; ++i)
      errors.run(i, [&] {
        const ImageRecord& image = images[static_cast<size_t>(i)];
        cv::Mat bgr;
        try {
          if (!image.path.empty()) bgr = read_image_bgr(image.path);
        } catch (const Error&) {
        }
        RegistrationCheck c = check_registration(bgr, params);
        c.image = image.id;
        c.path = image.path;
        out[static_cast<size_t>(i)] = std::move(c);
      });
    errors.rethrow();
    reporter.report("check registration", end, n);
  }
  return out;
}

std::string registration_tsv(const std::vector<RegistrationCheck>& checks) {
  std::ostringstream out;
  out << "image\tpath\tread\tfound\tangle_deg\tarea_fraction\tap_mirrored\tap_confidence\t"
         "dv_mirrored\tdv_confidence\tconcerns\n";
  for (const auto& c : checks) {
    std::string concerns;
    for (const auto& s : c.concerns) concerns += (concerns.empty() ? "" : "; ") + s;
    out << detail::tsv_field(c.image) << '\t' << detail::tsv_field(c.path) << '\t' << int(c.read)
        << '\t' << int(c.found) << '\t' << format_exact(c.angle_deg) << '\t'
        << format_exact(c.area_fraction) << '\t' << int(c.ap_mirrored) << '\t'
        << format_exact(c.ap_confidence) << '\t' << int(c.dv_mirrored) << '\t'
        << format_exact(c.dv_confidence) << '\t' << detail::tsv_field(concerns) << '\n';
  }
  return out.str();
}

}  // namespace ishannot
