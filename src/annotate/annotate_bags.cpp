// annotate with a bag bundle (detail/annotate_bags.h): group by group, the images' features
// preprocessed as in training, pooled (eval/bags.h), scored; each image's share of the group's
// linear score. The shares are exact: the members' mean decision is linear in the pooled vector,
//   mean_k (w_k . v + b_k) = sum_i wbar . m_i + mean_k b_k,
// with m_i = z_i / (n ||pooled||) for mean pooling and, for max pooling, the pooled vector's
// dimensions where image i holds the maximum (/ ||pooled|| with l2); wbar . m_i is read off the
// annotator as the mean decision of m_i minus the mean bias.
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "annotate/annotate_bags.h"
#include "annotate/annotate_output.h"
#include "detail/tsv.h"
#include "ishannot/annotate/annotator.h"
#include "ishannot/common/error.h"
#include "ishannot/common/format.h"
#include "ishannot/common/format_versions.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/common/output_columns.h"
#include "ishannot/eval/bags.h"
#include "ishannot/learn/logistic.h"

namespace ishannot::detail {

bool is_bag_bundle(const ModelBundle& bundle) {
  auto unit = bundle.attributes.find("unit");
  return unit != bundle.attributes.end() && unit->second == "bag";
}

namespace {

struct Group {
  std::string stage, gene;
  std::vector<const ImageRecord*> images;
};

// The groups in the bundle's stage order, then in order of first appearance.
std::vector<Group> groups_of(const std::vector<ImageRecord>& images, const std::string& source,
                             const ModelBundle& bundle) {
  std::map<std::pair<std::string, std::string>, size_t> index;
  std::vector<Group> groups;
  for (const auto& stage : bundle.stage_ranges())
    for (const auto& image : images) {
      if (image.stage_range != stage) continue;
      if (image.gene.empty())
        throw file_error(source, "image " + image.id + " has no gene: the bag model of " +
                                     bundle.path +
                                     " scores gene x stage-range groups (give --data with a "
                                     "gene column, e.g. a manifest or BDGP's tables)");
      auto [it, fresh] = index.try_emplace({stage, image.gene}, groups.size());
      if (fresh) groups.push_back({stage, image.gene, {}});
      groups[it->second].images.push_back(&image);
    }
  return groups;
}

struct Outputs {
  std::ostringstream annotations, groups, evidence, skipped;
  AnnotateSummary summary;
};

using RowMatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// The pooled vector of preprocessed rows z (n x d), its norm factor, and per image the part of it
// that image accounts for (rows of `parts`, summing to the pooled vector / factor).
void pool_group(const RowMatrixF& z, BagPool pool, bool l2, std::vector<float>& vector,
                RowMatrixF& parts) {
  const Eigen::Index n = z.rows(), d = z.cols();
  Eigen::VectorXd pooled(d);
  std::vector<Eigen::Index> argmax(static_cast<size_t>(d), 0);
  for (Eigen::Index c = 0; c < d; ++c) {
    double sum = 0, best = -std::numeric_limits<double>::infinity();
    for (Eigen::Index i = 0; i < n; ++i) {
      sum += z(i, c);
      if (z(i, c) > best) {
        best = z(i, c);
        argmax[static_cast<size_t>(c)] = i;
      }
    }
    pooled[c] = pool == BagPool::kMax ? best : sum / static_cast<double>(n);
  }
  const double norm = pooled.norm();
  const double factor = l2 && norm > 0 ? 1 / norm : 1.0;
  vector.resize(static_cast<size_t>(d));
  for (Eigen::Index c = 0; c < d; ++c)
    vector[static_cast<size_t>(c)] = static_cast<float>(pooled[c] * factor);
  if (pool == BagPool::kMax) {
    parts = RowMatrixF::Zero(n, d);
    for (Eigen::Index c = 0; c < d; ++c)
      parts(argmax[static_cast<size_t>(c)], c) = vector[static_cast<size_t>(c)];
  } else {
    parts = z * static_cast<float>(factor / static_cast<double>(n));
  }
}

// A group's calibrated probability of its bag score, its call and the term's trust columns.
std::string call_fields(const TermModel& term, double score, const CallBand& band) {
  const TermTrust trust = trust_of(term, band);
  const double probability = term.calibration.apply(score);
  return optional_number(probability) + '\t' + call_of(probability, trust.validated, band) +
         trust_fields(trust);
}

// An image row of a bag run: the calibration was fit on bags' out-of-fold scores, not on single
// images, so an image scored as a bag of one gets no probability and its call is 'uncertain'.
std::string image_call_fields(const TermModel& term, const CallBand& band) {
  return optional_number(std::nan("")) + '\t' + "uncertain" + trust_fields(trust_of(term, band));
}

// One row of annotations.tsv: `image` of group `g` scored alone (a bag of one).
void write_image_row(Outputs& out, const Group& g, const ImageRecord& image, const TermModel& term,
                     double score, int votes, int members, int label, const CallBand& band) {
  out.annotations << tsv_field(image.id) << '\t' << tsv_field(absolute_path(image.path)) << '\t'
                  << tsv_field(g.gene) << '\t' << g.stage << '\t' << stage_order(g.stage) << '\t'
                  << tsv_field(term.term) << '\t' << format_exact(score) << '\t' << votes << '\t'
                  << members << '\t' << label << '\t' << image_call_fields(term, band) << '\n';
  ++out.summary.rows;
}

// A group's row of groups.tsv for one term, and its images' rows of group_evidence.tsv ranked by
// contribution (largest first; ties in image order), each with its share.
void write_group_term(Outputs& out, const Group& g, const std::vector<const ImageRecord*>& kept,
                      const TermModel& term, double score, int label, const std::string& rule,
                      const std::vector<double>& contribution, const std::vector<double>& share,
                      const CallBand& band) {
  out.groups << tsv_field(g.gene) << '\t' << g.stage << '\t' << stage_order(g.stage) << '\t'
             << tsv_field(term.term) << '\t' << format_exact(score) << '\t' << label << '\t'
             << kept.size() << '\t' << rule << '\t' << call_fields(term, score, band) << '\n';
  std::vector<size_t> order(kept.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return contribution[a] > contribution[b]; });
  for (size_t r = 0; r < order.size(); ++r) {
    const ImageRecord& image = *kept[order[r]];
    out.evidence << tsv_field(g.gene) << '\t' << g.stage << '\t' << stage_order(g.stage) << '\t'
                 << tsv_field(term.term) << '\t' << label << '\t' << format_exact(score) << '\t'
                 << r + 1 << '\t' << tsv_field(image.id) << '\t'
                 << tsv_field(absolute_path(image.path)) << '\t'
                 << format_exact(contribution[order[r]]) << '\t' << format_exact(share[order[r]])
                 << '\n';
  }
}

// An attention bag stage: the images' kernel-PCA coordinates through the MIL model; the group's
// score per term is the model's probability, each image's evidence its attention weight.
void annotate_attention_group(const Group& g, const std::vector<const ImageRecord*>& kept,
                              const StageAnnotator& annotator, const RowMatrixF& z,
                              const CallBand& band, Outputs& out) {
  const auto& stage = annotator.stage();
  const auto& terms = stage.terms;
  const Eigen::MatrixXd coords = annotator.project(z.data(), z.rows());
  for (size_t i = 0; i < kept.size(); ++i) {  // each image a bag of one
    const MilOutput single =
        attention_mil_forward(stage.mil, coords.col(static_cast<Eigen::Index>(i)));
    for (size_t t = 0; t < terms.size(); ++t) {
      const double score = sigmoid(single.logits(static_cast<Eigen::Index>(t)));
      write_image_row(out, g, *kept[i], terms[t], score, score >= 0.5, 1, score >= 0.5, band);
    }
  }
  out.summary.images += static_cast<int64_t>(kept.size());
  const MilOutput bag = attention_mil_forward(stage.mil, coords);
  for (size_t t = 0; t < terms.size(); ++t) {  // the attention weights sum to 1: share = weight
    const auto tt = static_cast<Eigen::Index>(t);
    const double score = sigmoid(bag.logits(tt));
    std::vector<double> weight(kept.size());
    for (size_t i = 0; i < kept.size(); ++i)
      weight[i] = bag.attention(tt, static_cast<Eigen::Index>(i));
    write_group_term(out, g, kept, terms[t], score, score >= 0.5, "bag:attention", weight, weight,
                     band);
  }
  ++out.summary.groups;
}

void annotate_group(const Group& g, const StageAnnotator& annotator, FeatureSource& source,
                    const std::vector<std::string>& layers, BagPool pool, bool l2,
                    const std::string& rule, const CallBand& band, Outputs& out) {
  std::vector<float> rows;
  std::vector<std::string> failure;
  source.read(g.images, layers, rows, failure);
  const int64_t d = annotator.dim();
  std::vector<const ImageRecord*> kept;
  RowMatrixF z(0, d);
  for (size_t i = 0; i < g.images.size(); ++i) {
    if (!failure[i].empty()) {
      out.skipped << tsv_field(g.images[i]->path.empty() ? g.images[i]->id : g.images[i]->path)
                  << '\t' << tsv_field(failure[i]) << '\n';
      ++out.summary.skipped;
      continue;
    }
    kept.push_back(g.images[i]);
    z.conservativeResize(z.rows() + 1, d);
    z.row(z.rows() - 1) =
        Eigen::Map<const Eigen::RowVectorXf>(rows.data() + static_cast<int64_t>(i) * d, d);
  }
  if (kept.empty()) {
    out.skipped << "\tgroup " << tsv_field(g.gene) << " at " << g.stage
                << ": no image with features (the group is not annotated)\n";
    return;
  }
  annotator.preprocess(z.data(), z.rows());
  if (pool == BagPool::kAttention) {
    annotate_attention_group(g, kept, annotator, z, band, out);
    return;
  }
  const auto& terms = annotator.stage().terms;
  const int t_count = static_cast<int>(terms.size());
  const int members = static_cast<int>(annotator.stage().weights.rows() / t_count);
  const BatchScores single = annotator.score(z.data(), z.rows());  // each image a bag of one
  for (size_t i = 0; i < kept.size(); ++i)
    for (int t = 0; t < t_count; ++t) {
      const size_t k = i * static_cast<size_t>(t_count) + static_cast<size_t>(t);
      write_image_row(out, g, *kept[i], terms[static_cast<size_t>(t)], single.score[k],
                      single.votes[k], members, single.label[k], band);
    }
  out.summary.images += static_cast<int64_t>(kept.size());
  std::vector<float> vector;
  RowMatrixF parts;
  pool_group(z, pool, l2, vector, parts);
  const BatchScores bag = annotator.score(vector.data(), 1);
  const BatchScores shares = annotator.score(parts.data(), parts.rows());
  for (int t = 0; t < t_count; ++t) {
    const size_t tt = static_cast<size_t>(t);
    std::vector<double> contribution(kept.size()), share(kept.size());
    double total = 0;
    for (size_t i = 0; i < kept.size(); ++i) {
      contribution[i] =
          shares.decision[i * static_cast<size_t>(t_count) + tt] - annotator.mean_bias(t);
      total += std::abs(contribution[i]);
    }
    for (size_t i = 0; i < kept.size(); ++i) share[i] = total > 0 ? contribution[i] / total : 0.0;
    write_group_term(out, g, kept, terms[tt], bag.score[tt], bag.label[tt], rule, contribution,
                     share, band);
  }
  ++out.summary.groups;
}

}  // namespace

AnnotateSummary annotate_bags(const std::vector<ImageRecord>& images,
                              const std::string& source_name, const ModelBundle& bundle,
                              FeatureSource& source, const AnnotateParams& params,
                              const std::string& out_dir, const Reporter& reporter) {
  const auto start = std::chrono::steady_clock::now();
  const std::vector<Group> groups = groups_of(images, source_name, bundle);
  const BagPool pool = parse_bag_pool(
      bundle.attributes.count("bag_pool") ? bundle.attributes.at("bag_pool") : std::string("mean"));
  const bool l2 = bundle.preprocessing == Preprocessing::kL2;
  const std::string rule = "bag:" + bag_pool_name(pool);
  std::vector<std::string> layers;
  for (const auto& l : bundle.recipe.layers) layers.push_back(l.name);
  Outputs out;
  // The columns of an image bundle's run (output_columns.cpp), read back by report alike.
  out.annotations << tsv_header(OutputKind::kAnnotate, "annotations.tsv");
  out.groups << tsv_header(OutputKind::kAnnotate, "groups.tsv");
  out.evidence << tsv_header(OutputKind::kAnnotate, "group_evidence.tsv");
  out.skipped << tsv_header(OutputKind::kAnnotate, "skipped.tsv");
  std::map<std::string, std::unique_ptr<StageAnnotator>> annotators;
  int64_t done = 0;
  for (const auto& g : groups) {
    auto& annotator = annotators[g.stage];
    if (!annotator) {
      annotators.clear();  // one stage's weights in memory at a time
      annotators[g.stage] = std::make_unique<StageAnnotator>(bundle, *bundle.stage(g.stage));
    }
    annotate_group(g, *annotators.at(g.stage), source, layers, pool, l2, rule, params.band, out);
    done += static_cast<int64_t>(g.images.size());
    reporter.report("annotate groups", done, static_cast<int64_t>(images.size()));
  }
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) throw file_error(out_dir, "cannot create the output folder: " + ec.message());
  write_text_atomically(out_dir + "/annotations.tsv", out.annotations.str());
  write_text_atomically(out_dir + "/groups.tsv", out.groups.str());
  write_text_atomically(out_dir + "/group_evidence.tsv", out.evidence.str());
  write_text_atomically(out_dir + "/skipped.tsv", out.skipped.str());
  std::vector<std::string> files = {"annotations.tsv", "groups.tsv", "group_evidence.tsv",
                                    "skipped.tsv", "run.json"};
  if (params.check_registration) files.push_back("registration.tsv");
  write_columns_tsv(out_dir, OutputKind::kAnnotate, files);
  AnnotateSummary summary = out.summary;
  summary.heatmap_note = "a bag model scores groups: its evidence is group_evidence.tsv";
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  nlohmann::json run;
  run["format"] = "ishannot-annotation";
  run["format_version"] = kAnnotationRunFormatVersion;
  for (const auto& [key, value] : params.provenance.entries()) run["provenance"][key] = value;
  run["bundle"] = {{"path", bundle.path}, {"sha256", sha256_file(bundle.path)}};
  run["unit"] = "bag";
  run["bag_pool"] = bag_pool_name(pool);
  run["features"]["source"] = source.description();
  run["group_rule"] = rule;
  run["heatmaps"] = {{"available", false}, {"reason", summary.heatmap_note}};
  run["counts"] = {{"images", summary.images},
                   {"skipped", summary.skipped},
                   {"rows", summary.rows},
                   {"groups", summary.groups}};
  run["seconds"] = summary.seconds;
  write_text_atomically(out_dir + "/run.json", run.dump(2) + "\n");
  return summary;
}

}  // namespace ishannot::detail
