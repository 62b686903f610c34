// standardize_dataset: every image of a dataset, the QC table and the manifest
// (image/standardize.h).
#include <filesystem>
#include <sstream>

#include "ishannot/common/error.h"
#include "ishannot/common/format.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/image/image.h"
#include "ishannot/standardize/standardize.h"

namespace fs = std::filesystem;

namespace ishannot {

namespace {

std::string qc_row(const StandardizedImage& s) {
  const StandardizeResult& r = s.result;
  auto num = [](double v) { return format_exact(v); };
  auto flag = [](bool b) { return std::string(b ? "1" : "0"); };
  std::vector<std::string> flags = r.flags;
  if (!s.problem.empty()) flags = {s.problem};
  std::ostringstream row;
  row << s.id << '\t' << s.source << '\t' << s.output << '\t' << flag(r.found) << '\t'
      << num(r.angle_deg) << '\t' << flag(r.ap_flipped) << '\t' << num(r.ap_confidence) << '\t'
      << flag(r.dv_flipped) << '\t' << num(r.dv_confidence) << '\t' << num(r.area_fraction) << '\t'
      << flag(r.touches_border) << '\t' << num(r.elongation) << '\t' << num(r.blur) << '\t'
      << num(r.crop.center.x) << '\t' << num(r.crop.center.y) << '\t' << num(r.crop.size.width)
      << '\t' << num(r.crop.size.height) << '\t' << flag(!flags.empty()) << '\t';
  std::string text = join(flags, ";");
  for (char& c : text)
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  row << text << '\n';
  return row.str();
}

constexpr const char* kQcHeader =
    "image\tsource\toutput\tfound\tangle_deg\tap_flipped\tap_confidence\tdv_flipped\t"
    "dv_confidence\tarea_fraction\ttouches_border\telongation\tblur\tcrop_x\tcrop_y\t"
    "crop_width\tcrop_height\tflagged\tflags\n";

StandardizedImage standardize_one(const ImageRecord& im, const std::string& out,
                                  const StandardizeParams& params, cv::Mat* image) {
  StandardizedImage s;
  s.id = im.id;
  s.source = absolute_path(im.path);
  cv::Mat bgr;
  try {
    bgr = read_image_bgr(im.path);
  } catch (const Error& e) {
    s.problem = std::string("unreadable: ") + e.what();
    return s;
  }
  StandardizeResult r = standardize_image(bgr, params);
  s.output = "images/" + im.id + ".png";
  write_png(out + "/" + s.output, r.image);
  *image = r.image;
  r.image.release();
  s.result = std::move(r);
  return s;
}

}  // namespace

std::vector<StandardizedImage> standardize_dataset(
    const Dataset& dataset, const std::string& out, const StandardizeParams& params,
    const Reporter& reporter,
    const std::function<void(const StandardizedImage&, const cv::Mat&)>& keep) {
  if (const std::string problem = params.check(); !problem.empty()) throw Error(problem);
  std::error_code ec;
  fs::create_directories(out + "/images", ec);
  if (ec) throw file_error(out, "cannot create the output folder: " + ec.message());
  std::vector<StandardizedImage> rows;
  std::string table = kQcHeader;
  Dataset standardized = dataset;
  standardized.images.clear();
  bool annotated = !dataset.images.empty();
  const auto total = static_cast<int64_t>(dataset.images.size());
  reporter.report("standardize", 0, total);
  for (const auto& im : dataset.images) {
    cv::Mat image;
    StandardizedImage s = standardize_one(im, out, params, &image);
    table += qc_row(s);
    annotated = annotated && !im.stage_range.empty();
    if (!s.output.empty()) {
      ImageRecord copy = im;
      copy.path = out + "/" + s.output;
      standardized.images.push_back(std::move(copy));
    }
    if (keep && !image.empty()) keep(s, image);
    rows.push_back(std::move(s));
    reporter.report("standardize", static_cast<int64_t>(rows.size()), total);
  }
  write_text_atomically(out + "/standardize.tsv", table);
  if (annotated) write_manifest(standardized, out + "/images.csv");
  return rows;
}

}  // namespace ishannot
