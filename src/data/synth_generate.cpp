// Writing a synthetic dataset (images, manifest, provenance) and the contact sheet.
#include <atomic>
#include <exception>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "data/synth_render.h"
#include "detail/parallel.h"
#include "detail/rng.h"
#include "ishannot/common/error.h"
#include "ishannot/common/format_versions.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/data/dataset.h"
#include "ishannot/data/synth.h"
#include "ishannot/image/image.h"
#include "ishannot/version.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace ishannot {
namespace fs = std::filesystem;

namespace {

constexpr int kFormatVersion = 1;

// A CSV field, quoted when it holds a comma, a quote or a newline (RFC 4180).
std::string csv_quote(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// synth.json: how the data set was made (parameters, vocabulary, the manifest's SHA-256).
void write_synth_info(const SynthParams& params, const fs::path& root, int64_t total,
                      size_t groups) {
  const std::string manifest = (root / "images.csv").string();
  nlohmann::json info;
  info["format"] = "ishannot-synth";
  info["format_version"] = kFormatVersion;
  info["generator_version"] = kSynthGeneratorVersion;
  info["tool"] = std::string("ishannot ") + ISHANNOT_VERSION;
  info["seed"] = params.seed;
  info["images"] = total;
  info["groups"] = groups;
  info["stages"] = params.stages;
  info["missing_pattern"] = params.missing_pattern;
  info["weak_pattern"] = params.weak_pattern;
  info["clutter"] = params.clutter;
  info["noise"] = params.noise;
  info["masks"] = params.masks;
  info["size"] = {320, 128};
  info["view"] = "lateral";
  if (params.like.empty()) {
    info["vocabulary"] = "built-in (top-10 terms per stage range of BDGP lateral images)";
  } else {
    info["vocabulary"] = "sampled from BDGP tables";
    info["like"] = params.like;
    for (const char* table : {"standard_annotations.csv", "standard_images.csv"})
      info["like_sha256"][table] = sha256_file((fs::path(params.like) / table).string());
  }
  info["manifest"] = "images.csv";
  info["manifest_sha256"] = sha256_file(manifest);
  write_text_atomically((root / "synth.json").string(), info.dump(2) + "\n");
}

}  // namespace

std::string generate_synthetic(const SynthParams& params, const std::string& out_dir,
                               const Reporter& reporter) {
  if (auto problem = params.check(); !problem.empty()) throw Error(problem);
  const auto groups = plan_synthetic_groups(params, reporter);
  const fs::path root(out_dir);
  std::error_code ec;
  fs::create_directories(root / "images", ec);
  if (ec) throw file_error((root / "images").string(), "cannot create folder: " + ec.message());
  if (params.masks) fs::create_directories(root / "masks", ec);
  if (ec) throw file_error((root / "masks").string(), "cannot create folder: " + ec.message());

  // One job per image, each with its own seeds: the output does not depend on thread order.
  struct Job {
    int group;
    int index;  // global image number
  };
  std::vector<Job> jobs;
  std::vector<uint64_t> group_seed(groups.size());
  std::vector<bool> clutter(groups.size());
  for (size_t g = 0; g < groups.size(); ++g) {
    group_seed[g] = derive_seed(params.seed, SeedStream::kSynthGroup, {g});
    clutter[g] = detail::group_has_clutter(group_seed[g], params.clutter);
    for (int i = 0; i < groups[g].images; ++i)
      jobs.push_back({static_cast<int>(g), static_cast<int>(jobs.size())});
  }
  Dataset ds;
  ds.source = out_dir;
  ds.images.resize(jobs.size());
  for (const auto& job : jobs) {
    char id[32];
    std::snprintf(id, sizeof id, "synth%06d", job.index + 1);
    auto& rec = ds.images[job.index];
    rec.id = id;
    rec.path = (root / "images" / (rec.id + ".png")).string();
    rec.gene = groups[job.group].gene;
    rec.stage_range = groups[job.group].stage_range;
    rec.view = "lateral";
    rec.terms = groups[job.group].terms;
  }

  std::vector<std::string> mask_rows(jobs.size());  // masks.csv lines per image
  std::atomic<int64_t> done{0};
  std::mutex mutex;
  detail::LoopErrors errors;
  const int64_t total = static_cast<int64_t>(jobs.size());
#ifdef _OPENMP
  const int threads = params.threads > 0 ? params.threads : omp_get_max_threads();
#pragma omp parallel for schedule(dynamic, 8) num_threads(threads)
#endif
  for (int64_t j = 0; j < total; ++j) {
    if (errors.failed()) continue;
    errors.run(j, [&] {
      const Job& job = jobs[j];
      const auto& group = groups[job.group];
      const uint64_t image_seed =
          derive_seed(params.seed, SeedStream::kSynthImage, {static_cast<uint64_t>(job.index)});
      std::vector<cv::Mat> masks;
      const cv::Mat bgr = detail::render_group_image(
          group.terms, group.stage_range, group_seed[job.group], image_seed, 1.0,
          clutter[job.group], params, params.masks ? &masks : nullptr);
      write_png(ds.images[job.index].path, bgr);
      for (size_t k = 0; k < masks.size(); ++k) {
        const std::string name = ds.images[job.index].id + "." + std::to_string(k) + ".png";
        write_png((root / "masks" / name).string(), masks[k]);
        mask_rows[static_cast<size_t>(j)] += ds.images[job.index].id + "," +
                                             csv_quote(group.terms[k]) + ",masks/" + name + "," +
                                             (cv::countNonZero(masks[k]) > 0 ? "1" : "0") + "\n";
      }
      const int64_t n = ++done;
      if (n % 64 == 0 || n == total) {
        std::lock_guard<std::mutex> lock(mutex);
        reporter.report("synth images", n, total);
      }
    });
  }
  errors.rethrow();

  const std::string manifest = (root / "images.csv").string();
  write_manifest(ds, manifest);
  if (params.masks) {
    std::string csv = "image,term,mask,painted\n";
    for (const auto& rows : mask_rows) csv += rows;
    write_text_atomically((root / "masks.csv").string(), csv);
  }

  write_synth_info(params, root, total, groups.size());
  reporter.info("wrote " + std::to_string(total) + " images in " + std::to_string(groups.size()) +
                " groups: " + manifest);
  return manifest;
}

namespace {

// Word-wraps a label into lines of at most `width` characters.
std::vector<std::string> wrap(const std::string& text, size_t width) {
  std::vector<std::string> lines(1);
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    const std::string word = text.substr(start, end - start);
    if (!lines.back().empty() && lines.back().size() + 1 + word.size() > width)
      lines.emplace_back();
    lines.back() += (lines.back().empty() ? "" : " ") + word;
    start = end + 1;
  }
  return lines;
}

}  // namespace

void write_contact_sheet(const std::string& png_path, uint64_t seed) {
  const int tw = 192, th = 77, label_h = 40, header_w = 64, cols = 10;
  std::vector<std::string> stages;
  for (const auto& v : default_vocabulary())
    if (stages.empty() || stages.back() != v.stage_range) stages.push_back(v.stage_range);
  const int rows = static_cast<int>(stages.size()) + 1;  // + one row of per-image variation
  cv::Mat sheet(rows * (th + label_h) + 8, header_w + cols * (tw + 4), CV_8UC3,
                cv::Scalar(255, 255, 255));
  auto put = [&](const std::string& text, int x, int y, double scale) {
    cv::putText(sheet, text, cv::Point(x, y), cv::FONT_HERSHEY_SIMPLEX, scale, cv::Scalar(0, 0, 0),
                1, cv::LINE_AA);
  };
  auto place = [&](const cv::Mat& image, int row, int col, const std::string& label) {
    cv::Mat small;
    cv::resize(image, small, cv::Size(tw, th), 0, 0, cv::INTER_AREA);
    const int x = header_w + col * (tw + 4), y = 4 + row * (th + label_h);
    small.copyTo(sheet(cv::Rect(x, y, tw, th)));
    int line_y = y + th + 12;
    for (const auto& line : wrap(label, 34)) {
      put(line, x + 2, line_y, 0.33);
      line_y += 12;
    }
  };
  for (size_t r = 0; r < stages.size(); ++r) {
    put(stages[r], 6, 4 + static_cast<int>(r) * (th + label_h) + th / 2, 0.5);
    int c = 0;
    for (const auto& v : default_vocabulary()) {
      if (v.stage_range != stages[r] || c >= cols) continue;
      place(render_synthetic_image({v.term}, v.stage_range, seed, 0.0), static_cast<int>(r), c++,
            v.term);
    }
  }
  // Last row: one 13-16 group (brain + ventral nerve cord + midgut) as the generator varies it.
  const int r = rows - 1;
  put("13-16", 6, 4 + r * (th + label_h) + th / 2 - 8, 0.5);
  put("varied", 6, 4 + r * (th + label_h) + th / 2 + 8, 0.45);
  const std::vector<std::string> terms = {"embryonic brain", "embryonic midgut",
                                          "ventral nerve cord"};
  for (int c = 0; c < cols; ++c) {
    const cv::Mat image = detail::render_group_image(terms, "13-16", seed, seed + 100 + c, 1.0,
                                                     c % 3 == 2, SynthParams{});
    place(image, r, c,
          c == 0 ? "brain + midgut + VNC, 10 images" : (c % 3 == 2 ? "(with clutter)" : ""));
  }
  write_bytes(png_path, encode_png(sheet, PngCompression::kSmallest));
}

}  // namespace ishannot
