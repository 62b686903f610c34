// standardize: orientation features, the shipped model, learning it and its leave-one-gene-out
// accuracy, and the whole standardize_image (image/standardize.h).
#include <algorithm>
#include <cmath>
#include <map>
#include <opencv2/imgproc.hpp>
#include <set>
#include <sstream>

#include "ishannot/common/assert.h"
#include "ishannot/common/format.h"
#include "ishannot/learn/logistic.h"
#include "ishannot/standardize/standardize.h"

namespace ishannot {

namespace {

#include "orientation_model.inc"  // kOrientationAp, kOrientationDv, kOrientationProvenance

constexpr int kCols = 80, kRows = 32;  // features are computed on this size
constexpr int kColBands = 20, kRowBands = 8;

struct Planes {
  cv::Mat dark, mask, stain;  // CV_64F, kRows x kCols
};

Planes planes_of(const cv::Mat& bgr) {
  cv::Mat small, grey, mask;
  cv::resize(bgr, small, cv::Size(kCols, kRows), 0, 0, cv::INTER_AREA);
  cv::cvtColor(small, grey, cv::COLOR_BGR2GRAY);
  cv::GaussianBlur(grey, mask, cv::Size(3, 3), 0);
  cv::threshold(mask, mask, 0, 1, cv::THRESH_BINARY_INV | cv::THRESH_OTSU);
  Planes p;
  grey.convertTo(p.dark, CV_64F, -1.0 / 255, 1.0);
  mask.convertTo(p.mask, CV_64F);
  std::vector<cv::Mat> ch;
  cv::split(small, ch);
  cv::Mat b, r;
  ch[0].convertTo(b, CV_64F, 1.0 / 255);
  ch[2].convertTo(r, CV_64F, 1.0 / 255);
  p.stain = b - r;
  return p;
}

double band_mean(const cv::Mat& plane, int r0, int r1, int c0, int c1) {
  return cv::mean(plane(cv::Range(r0, r1), cv::Range(c0, c1)))[0];
}

}  // namespace

OrientationFeatures orientation_features(const cv::Mat& standardized_bgr) {
  const Planes p = planes_of(standardized_bgr);
  const int cw = kCols / kColBands, rh = kRows / kRowBands;
  std::vector<double> ap, dv;
  for (const cv::Mat* plane : {&p.dark, &p.mask, &p.stain}) {
    std::vector<double> col(kColBands), row(kRowBands), top_minus_bottom(kColBands);
    for (int k = 0; k < kColBands; ++k) {
      col[k] = band_mean(*plane, 0, kRows, k * cw, (k + 1) * cw);
      top_minus_bottom[k] = band_mean(*plane, 0, kRows / 2, k * cw, (k + 1) * cw) -
                            band_mean(*plane, kRows / 2, kRows, k * cw, (k + 1) * cw);
    }
    for (int r = 0; r < kRowBands; ++r) row[r] = band_mean(*plane, r * rh, (r + 1) * rh, 0, kCols);
    for (int k = 0; k < kColBands / 2; ++k) ap.push_back(col[k] - col[kColBands - 1 - k]);
    for (int r = 0; r < kRowBands / 2; ++r) dv.push_back(row[r] - row[kRowBands - 1 - r]);
    for (int k = 0; k < kColBands / 2; ++k)
      dv.push_back(top_minus_bottom[k] + top_minus_bottom[kColBands - 1 - k]);
  }
  OrientationFeatures f;
  f.ap = Eigen::Map<Eigen::VectorXd>(ap.data(), static_cast<Eigen::Index>(ap.size()));
  f.dv = Eigen::Map<Eigen::VectorXd>(dv.data(), static_cast<Eigen::Index>(dv.size()));
  return f;
}

const OrientationModel& shipped_orientation_model() {
  static const OrientationModel model = [] {
    OrientationModel m;
    const auto n_ap = static_cast<Eigen::Index>(std::size(kOrientationAp));
    const auto n_dv = static_cast<Eigen::Index>(std::size(kOrientationDv));
    m.ap = Eigen::Map<const Eigen::VectorXd>(kOrientationAp, n_ap);
    m.dv = Eigen::Map<const Eigen::VectorXd>(kOrientationDv, n_dv);
    m.provenance = kOrientationProvenance;
    return m;
  }();
  return model;
}

namespace {

Eigen::VectorXd fit_direction(const std::vector<const Eigen::VectorXd*>& x, double C) {
  const auto n = static_cast<Eigen::Index>(x.size());
  Eigen::MatrixXd features(2 * n, x.front()->size());
  std::vector<uint8_t> labels(2 * x.size());
  for (Eigen::Index i = 0; i < n; ++i) {
    features.row(2 * i) = x[i]->transpose();
    features.row(2 * i + 1) = -x[i]->transpose();
    labels[2 * i] = 1;
    labels[2 * i + 1] = 0;
  }
  LogisticParams params;
  params.C = C;
  return fit_primal_logistic(features, labels, params).weights;
}

}  // namespace

OrientationModel fit_orientation_model(const std::vector<OrientationFeatures>& registered,
                                       double C) {
  ISHANNOT_ASSERT(!registered.empty(), "no registered image to learn from");
  std::vector<const Eigen::VectorXd*> ap, dv;
  for (const auto& f : registered) ap.push_back(&f.ap), dv.push_back(&f.dv);
  OrientationModel m;
  m.ap = fit_direction(ap, C);
  m.dv = fit_direction(dv, C);
  return m;
}

std::vector<OrientationAccuracy> orientation_logo(
    const std::vector<OrientationFeatures>& registered, const std::vector<std::string>& genes,
    double C) {
  ISHANNOT_ASSERT(registered.size() == genes.size(), "one gene per image");
  std::map<std::string, OrientationAccuracy> per_gene;
  OrientationAccuracy all;
  for (const auto& gene : std::set<std::string>(genes.begin(), genes.end())) {
    std::vector<OrientationFeatures> train;
    for (size_t i = 0; i < genes.size(); ++i)
      if (genes[i] != gene) train.push_back(registered[i]);
    if (train.empty()) continue;
    const OrientationModel m = fit_orientation_model(train, C);
    OrientationAccuracy& a = per_gene[gene];
    a.gene = gene;
    for (size_t i = 0; i < genes.size(); ++i) {
      if (genes[i] != gene) continue;
      const bool ap = m.ap.dot(registered[i].ap) > 0, dv = m.dv.dot(registered[i].dv) > 0;
      for (OrientationAccuracy* t : {&a, &all}) {
        ++t->images;
        t->ap += ap, t->dv += dv, t->both += ap && dv;
      }
    }
  }
  std::vector<OrientationAccuracy> out;
  for (auto& [gene, a] : per_gene) out.push_back(a);
  out.push_back(all);
  for (auto& a : out)
    if (a.images > 0) a.ap /= a.images, a.dv /= a.images, a.both /= a.images;
  return out;
}

std::string orientation_model_source(const OrientationModel& model) {
  std::ostringstream s;
  s << "// The orientation model shipped with ishannot (image/standardize.h). Generated, do not\n"
       "// edit: regenerate with the command in docs/STANDARDIZE.md.\n";
  std::istringstream lines(model.provenance);
  for (std::string line; std::getline(lines, line);) s << "// " << line << "\n";
  auto array = [&](const char* name, const Eigen::VectorXd& w) {
    s << "constexpr double " << name << "[] = {";
    for (Eigen::Index i = 0; i < w.size(); ++i)
      s << (i % 4 == 0 ? "\n    " : " ") << format_exact(w[i]) << ",";
    s << "};\n";
  };
  array("kOrientationAp", model.ap);
  array("kOrientationDv", model.dv);
  std::string escaped;
  for (char c : model.provenance)
    escaped += c == '\n' ? std::string("\\n") : c == '"' ? std::string("\\\"") : std::string(1, c);
  s << "constexpr const char* kOrientationProvenance = \"" << escaped << "\";\n";
  return s.str();
}

StandardizeResult standardize_image(const cv::Mat& bgr, const StandardizeParams& params) {
  StandardizeResult r = locate_and_crop(bgr, params);
  if (r.found && params.orient) {
    const OrientationModel& m = shipped_orientation_model();
    const OrientationFeatures f = orientation_features(r.image);
    ISHANNOT_ASSERT(f.ap.size() == m.ap.size() && f.dv.size() == m.dv.size(),
                    "orientation_model.inc does not match the features: regenerate it");
    const double ap = m.ap.dot(f.ap), dv = m.dv.dot(f.dv);
    r.ap_flipped = ap < 0;
    r.dv_flipped = dv < 0;
    r.ap_confidence = sigmoid(std::abs(ap));
    r.dv_confidence = sigmoid(std::abs(dv));
    if (r.ap_flipped || r.dv_flipped)
      cv::flip(r.image, r.image, r.ap_flipped && r.dv_flipped ? -1 : r.ap_flipped ? 1 : 0);
    if (r.ap_confidence < params.min_confidence) r.flags.push_back("low AP confidence");
    if (r.dv_confidence < params.min_confidence) r.flags.push_back("low DV confidence");
  }
  cv::Mat grey, lap;
  cv::cvtColor(r.image, grey, cv::COLOR_BGR2GRAY);
  cv::Laplacian(grey, lap, CV_64F);
  cv::Scalar mean, sd;
  cv::meanStdDev(lap, mean, sd);
  r.blur = sd[0] * sd[0];
  if (r.blur < params.min_blur) r.flags.push_back("blurred");
  return r;
}

}  // namespace ishannot
