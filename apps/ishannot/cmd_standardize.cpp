// `ishannot standardize --data RAW --out DIR`: registers lab images to BDGP's convention (embryo
// found, long axis horizontal, cropped, 320x128, anterior left, dorsal up; image/standardize.h)
// with a QC table and a contact sheet. `--learn-orientation` learns the orientation model from
// registered images instead (the source file shipped as src/standardize/orientation_model.inc) and
// prints its leave-one-gene-out accuracy.
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "ishannot/annotate/heatmap.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/image/image.h"
#include "ishannot/standardize/standardize.h"
#include "ishannot/version.h"
#include "options.h"

namespace ishannot::cli {

namespace {

struct StandardizeOptions {
  std::string data, out, size = "320x128";
  StandardizeParams params;
  bool no_orient = false, learn = false;
  int sheet = 48;
};

std::string fixed(double v, int digits) {
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", digits, v);
  return text;
}

void write_sheet(const std::string& path, std::vector<SheetTile> flagged,
                 const std::vector<SheetTile>& others, int limit) {
  for (const auto& t : others) {
    if (static_cast<int>(flagged.size()) >= limit) break;
    flagged.push_back(t);
  }
  if (static_cast<int>(flagged.size()) > limit) flagged.resize(limit);
  write_contact_sheet_png(path, "standardize: flagged images first", flagged, 6, 240);
}

void run_standardize(const StandardizeOptions& o, const GlobalOptions& options) {
  const Reporter reporter = make_reporter(options);
  StandardizeParams params = o.params;
  params.orient = !o.no_orient;
  ResizePolicy policy;
  parse_usage([&] { parse_input_size(o.size, &params.width, &params.height, &policy); });
  if (policy != ResizePolicy::kSquash) throw UsageError("--size '" + o.size + "': expected WxH");
  require_valid("standardize", params.check());
  const Dataset dataset = read_dataset(o.data);
  refuse_inputs_as_output(o.out, {{o.data, "the data"}});
  std::vector<SheetTile> flagged, others;
  const auto keep = [&](const StandardizedImage& s, const cv::Mat& image) {
    const StandardizeResult& r = s.result;
    std::string flags;
    for (const auto& f : r.flags) flags += (flags.empty() ? "" : ", ") + f;
    SheetTile tile{image,
                   {s.id,
                    "angle " + fixed(r.angle_deg, 1) + "  AP " + fixed(r.ap_confidence, 2) +
                        "  DV " + fixed(r.dv_confidence, 2),
                    flags}};
    auto& list = r.flags.empty() ? others : flagged;
    if (static_cast<int>(list.size()) < o.sheet) list.push_back(std::move(tile));
  };
  const auto rows = standardize_dataset(dataset, o.out, params, reporter, keep);
  if (o.sheet > 0) write_sheet(o.out + "/contact_sheet.png", flagged, others, o.sheet);
  int found = 0, unreadable = 0, with_flags = 0;
  for (const auto& s : rows) {
    found += s.result.found;
    unreadable += !s.problem.empty();
    with_flags += !s.problem.empty() || !s.result.flags.empty();
  }
  reporter.info("standardize: " + std::to_string(rows.size()) + " images, embryo found in " +
                std::to_string(found) + ", " + std::to_string(with_flags) + " flagged, " +
                std::to_string(unreadable) + " unreadable (" + o.out + "/standardize.tsv)");
}

void run_learn_orientation(const StandardizeOptions& o, const GlobalOptions& options) {
  const Reporter reporter = make_reporter(options);
  StandardizeParams params = o.params;
  params.orient = false;
  const Dataset dataset = read_dataset(o.data);
  std::vector<OrientationFeatures> features;
  std::vector<std::string> genes;
  for (const auto& im : dataset.images) {
    const StandardizeResult r = locate_and_crop(read_image_bgr(im.path), params);
    if (!r.found) continue;
    features.push_back(orientation_features(r.image));
    genes.push_back(im.gene);
    reporter.report("features", static_cast<int64_t>(features.size()),
                    static_cast<int64_t>(dataset.images.size()));
  }
  if (features.empty()) throw file_error(o.data, "no embryo found in any image");
  const auto logo = orientation_logo(features, genes);
  std::cout
      << "| held-out gene | images | AP right | DV right | both right |\n|---|---|---|---|---|\n";
  for (const auto& a : logo)
    std::cout << "| " << (a.gene.empty() ? "**all**" : a.gene) << " | " << a.images << " | "
              << fixed(a.ap, 3) << " | " << fixed(a.dv, 3) << " | " << fixed(a.both, 3) << " |\n";
  OrientationModel model = fit_orientation_model(features);
  const auto& all = logo.back();
  model.provenance =
      "Learnt by `ishannot standardize --learn-orientation --data " + o.data + "` (ishannot " +
      ISHANNOT_VERSION + ") from " + std::to_string(features.size()) + " registered images of " +
      std::to_string(logo.size() - 1) +
      " genes and their mirror images; l2 logistic regression, C = 1.\n"
      "Leave-one-gene-out accuracy: AP " +
      fixed(all.ap, 3) + ", DV " + fixed(all.dv, 3) + ", both " + fixed(all.both, 3) + ".";
  write_text_atomically(o.out, orientation_model_source(model));
  reporter.info("wrote " + o.out);
}

}  // namespace

void run_standardize_command(const std::string& data, const std::string& out,
                             const GlobalOptions& options) {
  StandardizeOptions o;
  o.data = data;
  o.out = out;
  run_standardize(o, options);
}

void add_standardize_command(CLI::App& app, GlobalOptions& options) {
  auto o = std::make_shared<StandardizeOptions>();
  auto* cmd =
      app.add_subcommand("standardize",
                         "register lab images like BDGP's: embryo found, horizontal, cropped, "
                         "320x128, anterior left, dorsal up; QC table and contact sheet");
  add_data_option(cmd, o->data);
  add_out_option(cmd, o->out,
                 "output folder (images/, standardize.tsv, contact_sheet.png, images.csv); with "
                 "--learn-orientation the model source file");
  cmd->add_option("--size", o->size, "output size WxH (the recipe's)")->capture_default_str();
  cmd->add_option("--margin", o->params.margin, "added at each end (fraction of the length)")
      ->check(CLI::Range(0.0, 0.5))
      ->capture_default_str();
  cmd->add_flag("--no-orient", o->no_orient, "rotate and crop only: do not decide the flips");
  cmd->add_option("--min-confidence", o->params.min_confidence,
                  "flag a flip decided with less confidence (0.5..1)")
      ->check(CLI::Range(0.5, 1.0))
      ->capture_default_str();
  cmd->add_option("--contact-sheet", o->sheet, "images on contact_sheet.png (0 = none)")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  cmd->add_flag("--learn-orientation", o->learn,
                "learn the orientation model from registered images (--data) into --out "
                "(C++ source) and print its leave-one-gene-out accuracy");
  cmd->callback([o, &options] {
    if (o->learn)
      run_learn_orientation(*o, options);
    else
      run_standardize(*o, options);
  });
}

}  // namespace ishannot::cli
