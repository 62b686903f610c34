// Synthetic generator: determinism, manifest format, group planning, and that the pixels follow
// the term models (checked on hand-chosen anatomical regions, not on the generator's own masks).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/data/bdgp.h"
#include "ishannot/data/dataset.h"
#include "ishannot/data/synth.h"
#include "ishannot/image/image.h"
#include "support/test_paths.h"
#include "support/test_util.h"

using namespace ishannot;

namespace {

// Mean "blueness" (blue minus red; stain is blue-purple, tissue beige) over a pixel rectangle.
double blueness(const cv::Mat& bgr, int x0, int y0, int x1, int y1) {
  double sum = 0;
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) {
      const cv::Vec3b p = bgr.at<cv::Vec3b>(y, x);
      sum += static_cast<double>(p[0]) - p[2];
    }
  return sum / ((x1 - x0) * (y1 - y0));
}

std::map<std::string, std::string> hashes_of(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().filename() != "synth.json")
      out[e.path().lexically_relative(dir).string()] = sha256_file(e.path().string());
  return out;
}

}  // namespace

TEST(Synth, DeterministicForASeedWhateverTheThreads) {
  SynthParams p;
  p.images = 24;
  p.threads = 1;
  const auto a = test::temp_dir("synth-a"), b = test::temp_dir("synth-b"),
             c = test::temp_dir("synth-c");
  generate_synthetic(p, a);
  p.threads = 2;
  generate_synthetic(p, b);
  p.seed = 99;
  generate_synthetic(p, c);
  const auto ha = hashes_of(a), hb = hashes_of(b), hc = hashes_of(c);
  EXPECT_EQ(ha.size(), 25u);  // 24 images + images.csv
  EXPECT_EQ(ha, hb);
  int same = 0;
  for (const auto& [name, hash] : ha) same += hc.count(name) && hc.at(name) == hash ? 1 : 0;
  EXPECT_EQ(same, 0);
}

TEST(Synth, WritesOurManifestWith320x128LateralImages) {
  SynthParams p;
  p.images = 40;
  const auto dir = test::temp_dir("synth-manifest");
  const std::string manifest = generate_synthetic(p, dir);
  EXPECT_EQ(manifest, dir + "/images.csv");
  const std::string header = read_text_file(manifest).substr(0, 40);
  EXPECT_EQ(header.rfind("image,gene,fbgn,stage_range,terms,view\n", 0), 0u);
  const Dataset ds = read_dataset(dir);
  ASSERT_EQ(ds.images.size(), 40u);
  for (const auto& im : ds.images) {
    EXPECT_EQ(im.view, "lateral");
    const cv::Mat m = read_image_bgr(im.path);
    EXPECT_EQ(m.cols, 320);
    EXPECT_EQ(m.rows, 128);
  }
  EXPECT_TRUE(std::filesystem::exists(dir + "/synth.json"));
  EXPECT_NE(read_text_file(dir + "/synth.json").find("\"format_version\": 1"), std::string::npos);
}

TEST(Synth, PlansBdgpShapedGroups) {
  SynthParams p;
  p.images = 1000;
  const auto groups = plan_synthetic_groups(p);
  // Share of 1000 by BDGP's lateral counts 4964/2572/2467/7597/7580 (largest remainder, by hand).
  std::map<std::string, int> per_stage;
  std::set<std::pair<std::string, std::string>> keys;
  for (const auto& g : groups) {
    per_stage[g.stage_range] += g.images;
    EXPECT_GE(g.images, 1);
    EXPECT_LE(g.images, 12);
    EXPECT_TRUE(keys.insert({g.gene, g.stage_range}).second) << "group listed twice";
  }
  EXPECT_EQ(per_stage["4-6"], 197);
  EXPECT_EQ(per_stage["7-8"], 102);
  EXPECT_EQ(per_stage["9-10"], 98);
  EXPECT_EQ(per_stage["11-12"], 302);
  EXPECT_EQ(per_stage["13-16"], 301);
  // Term shares follow the built-in vocabulary (many images: sampling error ~0.01).
  p.images = 200000;
  std::map<std::string, double> share;
  std::map<std::string, int> stage_images;
  for (const auto& g : plan_synthetic_groups(p)) {
    stage_images[g.stage_range] += g.images;
    for (const auto& t : g.terms) share[g.stage_range + "|" + t] += g.images;
  }
  for (const auto& v : default_vocabulary())
    EXPECT_NEAR(share[v.stage_range + "|" + v.term] / stage_images[v.stage_range], v.frequency,
                0.025)
        << v.stage_range << " " << v.term;
  p.stages = {"1-3"};
  EXPECT_THROW(plan_synthetic_groups(p), Error);  // no built-in vocabulary for 1-3
  p.stages = {"4-6"};
  p.images = 0;
  EXPECT_THROW(plan_synthetic_groups(p), Error);
}

TEST(Synth, StainLiesWhereTheAnatomySays) {
  // Canonical images (variation 0): embryo centred, anterior left, dorsal up.
  auto img = [](const char* term, const char* stage) {
    return render_synthetic_image({term}, stage, 5, 0.0);
  };
  const cv::Mat none = render_synthetic_image({}, "13-16", 5, 0.0);
  EXPECT_LT(blueness(none, 20, 20, 300, 108), 5.0);  // unstained tissue is beige
  const cv::Mat post = img("posterior endoderm anlage in statu nascendi", "4-6");
  EXPECT_GT(blueness(post, 290, 50, 305, 78), blueness(post, 15, 50, 30, 78) + 40);
  const cv::Mat vnc = img("ventral nerve cord", "13-16");
  EXPECT_GT(blueness(vnc, 100, 100, 250, 112), blueness(vnc, 100, 16, 250, 28) + 40);
  const cv::Mat brain = img("embryonic brain", "13-16");
  EXPECT_GT(blueness(brain, 25, 35, 55, 60), blueness(brain, 200, 35, 240, 60) + 40);
  const cv::Mat dorsal = img("dorsal ectoderm anlage in statu nascendi", "4-6");
  EXPECT_GT(blueness(dorsal, 100, 12, 220, 24), blueness(dorsal, 100, 104, 220, 116) + 40);
  // Germ band extension: posterior endoderm moves from the posterior pole (4-6) to the dorsal
  // side (7-8).
  const cv::Mat post78 = img("posterior endoderm primordium P2", "7-8");
  EXPECT_GT(blueness(post78, 225, 25, 250, 45), blueness(post78, 290, 55, 305, 75) + 30);
  const double ubi = blueness(img("ubiquitous", "4-6"), 60, 40, 260, 90);
  const double faint = blueness(img("faint ubiquitous", "4-6"), 60, 40, 260, 90);
  EXPECT_GT(ubi, faint + 20);
  EXPECT_GT(faint, blueness(none, 60, 40, 260, 90) + 5);
  // Every built-in term is modelled by an anatomical rule, not the name-hash fallback.
  for (const auto& v : default_vocabulary())
    EXPECT_EQ(synthetic_term_model(v.term, v.stage_range).find("no anatomical rule"),
              std::string::npos)
        << v.term;
}

TEST(Synth, LabelsAreLearnableFromPixelsButNotTrivially) {
  SynthParams p;
  p.images = 240;
  p.stages = {"13-16"};
  const auto dir = test::temp_dir("synth-learn");
  const Dataset ds = read_manifest(generate_synthetic(p, dir));
  // A crude pixel model per term: blueness inside a hand-chosen region of its anatomy.
  struct Probe {
    const char* term;
    int x0, y0, x1, y1;
  };
  const Probe probes[] = {{"ventral nerve cord", 100, 98, 250, 112},
                          {"embryonic brain", 25, 35, 55, 60},
                          {"embryonic midgut", 130, 50, 190, 78},
                          {"embryonic hindgut", 270, 45, 290, 70}};
  std::vector<cv::Mat> pixels;
  for (const auto& im : ds.images) pixels.push_back(read_image_bgr(im.path));
  double auc_sum = 0;
  for (const auto& probe : probes) {
    std::vector<double> score;
    std::vector<int> label;
    for (size_t i = 0; i < ds.images.size(); ++i) {
      const auto& im = ds.images[i];
      score.push_back(blueness(pixels[i], probe.x0, probe.y0, probe.x1, probe.y1));
      label.push_back(std::count(im.terms.begin(), im.terms.end(), probe.term) > 0 ? 1 : 0);
    }
    const double auc = test::naive_auc(score, label);
    EXPECT_GT(auc, 0.7) << probe.term;
    RecordProperty(probe.term, std::to_string(auc));
    std::printf("  probe AUC %-20s %.3f\n", probe.term, auc);
    auc_sum += auc;
  }
  // Not trivial: variation, overlapping terms, clutter and missing patterns keep a fixed-region
  // probe from separating the classes perfectly.
  EXPECT_LT(auc_sum / 4, 0.99);
}

TEST(Synth, LikeSamplesRealGroups) {
  ISHANNOT_SKIP_WITHOUT_SHARED();
  SynthParams p;
  p.like = test::shared_data_dir() + "/bdgp-meta";
  p.images = 500;
  p.stages = {"13-16"};
  const auto groups = plan_synthetic_groups(p);
  // Real lateral groups of 13-16, read independently through the table reader.
  const Dataset real = read_bdgp_tables(p.like);
  std::map<std::string, std::pair<std::vector<std::string>, int>> real_groups;
  for (const auto& im : real.images)
    if (im.stage_range == "13-16" && im.view == "lateral") {
      real_groups[im.gene].first = im.terms;
      ++real_groups[im.gene].second;
    }
  int total = 0;
  for (const auto& g : groups) {
    ASSERT_TRUE(real_groups.count(g.gene)) << g.gene;
    EXPECT_EQ(g.terms, real_groups[g.gene].first);
    EXPECT_LE(g.images, real_groups[g.gene].second);
    EXPECT_EQ(g.stage_range, "13-16");
    total += g.images;
  }
  EXPECT_EQ(total, 500);
  p.like = test::shared_data_dir() + "/bdgp-mini";  // not a table folder
  EXPECT_THROW(plan_synthetic_groups(p), Error);
}

// synth --masks: the images are the same bytes as without masks; every (image, term) of the
// manifest has a mask; a painted mask covers stain (its pixels are bluer than the embryo outside
// all of the image's masks), an unpainted one (the image misses the pattern) is empty.
TEST(Synth, MasksSayWhereEachTermWasPainted) {
  SynthParams p;
  p.images = 60;
  p.stages = {"13-16"};
  const auto plain = test::temp_dir("synth-nomask"), masked = test::temp_dir("synth-mask");
  generate_synthetic(p, plain);
  p.masks = true;
  const Dataset ds = read_manifest(generate_synthetic(p, masked));
  for (const auto& im : ds.images)
    EXPECT_EQ(read_text_file(im.path), read_text_file(plain + "/images/" + im.id + ".png"));
  const auto rows = test::read_csv_rows(masked + "/masks.csv");
  size_t expected = 0;
  for (const auto& im : ds.images) expected += im.terms.size();
  ASSERT_EQ(rows.size(), expected);
  std::map<std::string, std::vector<cv::Mat>> masks_of;
  for (const auto& r : rows)
    masks_of[r.at("image")].push_back(read_image_bgr(masked + "/" + r.at("mask")));
  int painted = 0, bluer = 0;
  for (size_t k = 0; k < rows.size(); ++k) {
    const auto& r = rows[k];
    const cv::Mat mask = read_image_bgr(masked + "/" + r.at("mask"));
    const int on = cv::countNonZero(mask.reshape(1) > 0);
    EXPECT_EQ(r.at("painted") == "1", on > 0) << r.at("mask");
    if (on == 0) continue;
    ++painted;
    const cv::Mat image = read_image_bgr(masked + "/images/" + r.at("image") + ".png");
    double in = 0, out = 0;
    int n_in = 0, n_out = 0;
    for (int y = 0; y < image.rows; ++y)
      for (int x = 0; x < image.cols; ++x) {
        const cv::Vec3b px = image.at<cv::Vec3b>(y, x);
        const double blue = static_cast<double>(px[0]) - px[2];
        const bool tissue = px[0] < 240;  // not the white background
        bool any = false;
        for (const auto& m : masks_of[r.at("image")]) any = any || m.at<cv::Vec3b>(y, x)[0] > 0;
        if (mask.at<cv::Vec3b>(y, x)[0] > 0) {
          in += blue;
          ++n_in;
        } else if (!any && tissue) {
          out += blue;
          ++n_out;
        }
      }
    if (n_out == 0 || in / n_in > out / n_out + 10) ++bluer;
  }
  EXPECT_GT(painted, 60);
  EXPECT_GT(bluer, painted * 9 / 10) << bluer << " of " << painted;
}
