#pragma once
// Inputs for the report tests, made here: a tiny manifest with real PNG files, feature stores
// whose layers carry more or less of the terms' signal (so TL, TL+MTL and SC differ and layers
// differ), `ishannot evaluate` runs on them, and an annotate output in the agreed format
// (annotations.tsv, groups.tsv, heatmaps/index.tsv, skipped.tsv, run.json).
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "detail/rng.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/features/feature_store.h"
#include "support/test_paths.h"

namespace ishannot::test {

inline int run_command(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/// One fixture image: id, gene, stage range, terms.
struct FixtureImage {
  std::string id, gene, stage;
  std::vector<std::string> terms;
};

/// 12 genes x 2 stage ranges (11-12, 13-16) x 4 images; per stage range 4 terms given to genes
/// by a fixed pattern (every term has positives in several genes, no gene has all).
inline std::vector<FixtureImage> fixture_images() {
  std::vector<FixtureImage> images;
  const std::vector<std::string> stages = {"11-12", "13-16"};
  for (size_t s = 0; s < stages.size(); ++s)
    for (int g = 0; g < 12; ++g) {
      std::vector<std::string> terms;
      for (int t = 0; t < 4; ++t)
        if ((g + t * (s + 2)) % 3 != 0) terms.push_back("term " + stages[s] + " " + char('A' + t));
      for (int i = 0; i < 4; ++i)
        images.push_back(
            {"img" + std::to_string(s) + "_" + std::to_string(g) + "_" + std::to_string(i),
             "gene" + std::to_string(g), stages[s], terms});
    }
  return images;
}

/// Writes DIR/images/*.png (64x26, a colour per gene) and DIR/images.csv; returns the manifest.
inline std::string write_fixture_dataset(const std::string& dir) {
  std::filesystem::create_directories(dir + "/images");
  std::ofstream csv(dir + "/images.csv");
  csv << "image,gene,stage_range,terms\n";
  for (const auto& image : fixture_images()) {
    const int g = std::stoi(image.gene.substr(4));
    cv::Mat png(26, 64, CV_8UC3, cv::Scalar(230, 230, 230));
    cv::ellipse(png, {32, 13}, {28, 10}, 0, 0, 360, cv::Scalar(40 + 17 * g, 90, 200 - 12 * g), -1);
    cv::imwrite(dir + "/images/" + image.id + ".png", png);
    std::string terms;
    for (const auto& t : image.terms) terms += (terms.empty() ? "" : ";") + t;
    csv << image.id << ".png," << image.gene << "," << image.stage << "," << terms << "\n";
  }
  return dir + "/images.csv";
}

/// A feature store: per layer, features = strength x (sum of the image's term directions) +
/// unit Gaussian noise, 24 dimensions.
inline void write_fixture_store(const std::string& path,
                                const std::map<std::string, double>& layers, uint64_t seed) {
  const auto images = fixture_images();
  const int dim = 24;
  std::vector<LayerSpec> specs;
  for (const auto& [name, strength] : layers) specs.push_back({name, dim, "24"});
  FeatureStoreWriter writer(path, specs, FeatureDtype::kFloat32, {{"backbone", "fixture"}});
  std::vector<std::string> ids;
  std::map<std::string, std::vector<float>> data;
  detail::Rng rng = detail::Rng::from_derived(seed);
  for (const auto& image : images) {
    ids.push_back(image.id);
    for (const auto& [name, strength] : layers)
      for (int d = 0; d < dim; ++d) {
        double v = rng.normal();
        for (const auto& t : image.terms) {
          const int letter = t.back() - 'A', stage = image.stage == "13-16";
          if (d == letter * 5 + 1 || d == letter * 5 + 2 + stage) v += strength;
        }
        data[name].push_back(static_cast<float>(v));
      }
  }
  std::map<std::string, const float*> pointers;
  for (const auto& [name, values] : data) pointers[name] = values.data();
  writer.append(ids, pointers);
  writer.close();
}

/// Three evaluate runs in DIR: eval-tl (layers l3, l4, l5: TL, with their concatenation),
/// eval-mtl (l3, l4, l5, stronger: TL+MTL), eval-sc (sc_max, weak, stage 13-16 only: SC).
/// Returns false when a command fails.
inline bool write_fixture_evaluations(const std::string& dir, const std::string& manifest) {
  write_fixture_store(dir + "/tl.h5", {{"l3", 0.5}, {"l4", 1.1}, {"l5", 0.8}}, 11);
  write_fixture_store(dir + "/mtl.h5", {{"l3", 0.7}, {"l4", 1.5}, {"l5", 1.2}}, 12);
  write_fixture_store(dir + "/sc.h5", {{"sc_max", 0.4}}, 13);
  const std::string evaluate = ishannot_binary() + " --quiet evaluate --data " + manifest +
                               " --folds 3 --c-grid 1 --models 3 ";
  return run_command(evaluate + "--features " + dir +
                     "/tl.h5 --layers l3,l4,l5 --method TL --out " + dir +
                     "/eval-tl > /dev/null") == 0 &&
         run_command(evaluate + "--features " + dir + "/mtl.h5 --layers l3,l4,l5 --no-concat " +
                     "--method TL+MTL --out " + dir + "/eval-mtl > /dev/null") == 0 &&
         run_command(evaluate + "--features " + dir + "/sc.h5 --stages 13-16 --method SC --out " +
                     dir + "/eval-sc > /dev/null") == 0;
}

/// An annotate output in the agreed format for the first 6 fixture images of 13-16, with two
/// heat maps.
inline std::string write_fixture_annotations(const std::string& dir, const std::string& data_dir) {
  std::filesystem::create_directories(dir + "/heatmaps");
  std::ofstream rows(dir + "/annotations.tsv");
  rows << "image\tpath\tgene\tstage_range\tstage_order\tterm\tscore\tvotes\tmembers\tpredicted\t"
          "probability\tcall\tterm_auc\tterm_cv_folds\tterm_positive_genes\tterm_positives\t"
          "validated\n";
  int n = 0;
  for (const auto& image : fixture_images()) {
    if (image.stage != "13-16" || n++ >= 6) continue;
    for (int t = 0; t < 4; ++t) {
      const double score = 0.1 + 0.2 * t + 0.01 * n;
      rows << image.id << "\t" << data_dir << "/images/" << image.id << ".png\t" << image.gene
           << "\t13-16\t5\tterm 13-16 " << char('A' + t) << "\t" << score << "\t"
           << (score > 0.5 ? 3 : 1) << "\t3\t" << (score > 0.5 ? 1 : 0) << "\t" << score << "\t"
           << (t == 3        ? "uncertain"
               : score > 0.5 ? "yes"
                             : "no")
           << "\t0.9\t3\t2\t5\t" << (t == 3 ? 0 : 1) << "\n";  // term D: not validated
    }
  }
  std::ofstream groups(dir + "/groups.tsv");
  groups << "gene\tstage_range\tstage_order\tterm\tscore\tpredicted\timages\trule\tprobability\t"
            "call\tterm_auc\tterm_cv_folds\tterm_positive_genes\tterm_positives\tvalidated\n";
  for (int g = 0; g < 2; ++g)
    for (int t = 0; t < 4; ++t)
      groups << "gene" << g << "\t13-16\t5\tterm 13-16 " << char('A' + t) << "\t" << 0.2 * t + 0.1
             << "\t" << (t >= 2) << "\t4\tmean of image scores\t" << 0.2 * t + 0.1 << "\t"
             << (t == 3   ? "uncertain"
                 : t == 2 ? "uncertain"
                          : "no")
             << "\t0.9\t3\t2\t5\t" << (t == 3 ? 0 : 1) << "\n";
  cv::Mat heat(26, 64, CV_8UC3, cv::Scalar(0, 0, 255));
  cv::imwrite(dir + "/heatmaps/a.png", heat);
  cv::imwrite(dir + "/heatmaps/b.png", heat);
  std::ofstream index(dir + "/heatmaps/index.tsv");
  index << "image\tstage_range\tterm\tscore\tfile\n"
        << "img1_0_0\t13-16\tterm 13-16 D\t0.71\ta.png\n"
        << "img1_0_0\t13-16\tterm 13-16 C\t0.51\tb.png\n";
  std::ofstream(dir + "/skipped.tsv") << "image\treason\nimg9\tunreadable image\n";
  std::ofstream(dir + "/run.json") << R"({"format": "ishannot-annotation", "provenance": )"
                                   << R"({"created_by": "fixture"}})"
                                   << "\n";
  return dir;
}

/// node on PATH and the vega bundles in the cache: what `ishannot report` needs.
inline bool report_tools_present() {
  return run_command("command -v node > /dev/null 2>&1") == 0 &&
         std::filesystem::exists(cache_dir() + "/vega/vega-lite.min.js");
}

}  // namespace ishannot::test

/// Skips without node and vega (developer machines without scripts/setup.sh), fails instead when
/// ISHANNOT_REQUIRE_REPORT_TOOLS=1 (CI sets it: setup.sh installs them).
#define ISHANNOT_SKIP_WITHOUT_REPORT_TOOLS()                                                     \
  do {                                                                                           \
    if (!ishannot::test::report_tools_present()) {                                               \
      const char* require = std::getenv("ISHANNOT_REQUIRE_REPORT_TOOLS");                        \
      if (require && std::string(require) == "1")                                                \
        FAIL() << "node or ~/.cache/ishannot/vega missing, and ISHANNOT_REQUIRE_REPORT_TOOLS=1"; \
      GTEST_SKIP() << "node or the vega bundles (~/.cache/ishannot/vega) missing: run "          \
                      "scripts/setup.sh; skipping the report test";                              \
    }                                                                                            \
  } while (0)
