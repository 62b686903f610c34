// The calibration_* datasets of a model bundle's stage group (model_bundle.h): written by
// ModelBundleWriter, read by read_model_bundle; absent in bundles written before they existed.
#include <hdf5.h>

#include "annotate/model_bundle_io.h"
#include "detail/hdf5_util.h"
#include "ishannot/common/error.h"

namespace ishannot::detail {

void write_stage_calibration(hid_t group, const StageModel& stage, const std::string& path) {
  std::vector<std::string> methods;
  std::vector<double> ab, knots, values;
  std::vector<int64_t> samples, counts;
  for (const auto& t : stage.terms) {
    const Calibration& c = t.calibration;
    methods.push_back(calibration_method_name(c.method));
    ab.push_back(c.method == CalibrationMethod::kPlatt ? c.a : 1.0);
    ab.push_back(c.method == CalibrationMethod::kPlatt ? c.b : 0.0);
    samples.push_back(c.samples);
    const bool iso = c.method == CalibrationMethod::kIsotonic;
    counts.push_back(iso ? static_cast<int64_t>(c.knots.size()) : 0);
    if (iso) {
      knots.insert(knots.end(), c.knots.begin(), c.knots.end());
      values.insert(values.end(), c.values.begin(), c.values.end());
    }
  }
  write_strings(group, "calibration_method", methods, path);
  write_doubles(group, "calibration_ab", ab, {stage.terms.size(), 2}, path);
  write_int64s(group, "calibration_samples", samples, path);
  write_int64s(group, "calibration_knot_counts", counts, path);
  write_doubles(group, "calibration_knots", knots, {knots.size()}, path);
  write_doubles(group, "calibration_values", values, {values.size()}, path);
}

bool read_stage_calibration(hid_t group, StageModel& stage, const std::string& path) {
  if (H5Lexists(group, "calibration_method", H5P_DEFAULT) <= 0) return false;
  const size_t t = stage.terms.size();
  const auto methods = read_string_dataset(group, "calibration_method", path);
  if (methods.size() != t)
    throw file_error(path, "stage range " + stage.stage_range + ": calibration_method has " +
                               std::to_string(methods.size()) + " entries for " +
                               std::to_string(t) + " terms");
  const auto ab = read_doubles(group, "calibration_ab", 2 * t, path);
  const auto samples = read_int64s(group, "calibration_samples", t, path);
  const auto counts = read_int64s(group, "calibration_knot_counts", t, path);
  int64_t total = 0;
  for (int64_t c : counts) {
    if (c < 0) throw file_error(path, "negative calibration_knot_counts");
    total += c;
  }
  const auto knots = read_doubles(group, "calibration_knots", static_cast<size_t>(total), path);
  const auto values = read_doubles(group, "calibration_values", static_cast<size_t>(total), path);
  size_t at = 0;
  for (size_t i = 0; i < t; ++i) {
    Calibration& c = stage.terms[i].calibration;
    try {
      c.method = parse_calibration_method(methods[i]);
    } catch (const Error& e) {
      throw file_error(path, "stage range " + stage.stage_range + ": " + e.what());
    }
    c.a = ab[2 * i];
    c.b = ab[2 * i + 1];
    c.samples = samples[i];
    const auto n = static_cast<size_t>(counts[i]);
    c.knots.assign(knots.begin() + static_cast<std::ptrdiff_t>(at),
                   knots.begin() + static_cast<std::ptrdiff_t>(at + n));
    c.values.assign(values.begin() + static_cast<std::ptrdiff_t>(at),
                    values.begin() + static_cast<std::ptrdiff_t>(at + n));
    at += n;
    if (c.method == CalibrationMethod::kIsotonic && n == 0)
      throw file_error(path, "stage range " + stage.stage_range + ": isotonic calibration of '" +
                                 stage.terms[i].term + "' has no knots");
  }
  return true;
}

}  // namespace ishannot::detail
