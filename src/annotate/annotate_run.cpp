// annotate_images (annotate.h): checks before anything is written, then stage range by stage range
// and batch by batch: features, scores, annotations, groups, heat maps; then the final files.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>

#include "annotate/annotate_bags.h"
#include "annotate/annotate_output.h"
#include "detail/parallel.h"
#include "ishannot/annotate/annotate.h"
#include "ishannot/annotate/annotator.h"
#include "ishannot/annotate/heatmap.h"
#include "ishannot/annotate/recipe.h"
#include "ishannot/common/error.h"
#include "ishannot/common/format.h"
#include "ishannot/common/format_versions.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/common/npy.h"
#include "ishannot/features/store_attributes.h"
#include "ishannot/image/image.h"
#include "ishannot/standardize/registration_check.h"

namespace ishannot {

std::string AnnotateParams::check() const {
  if (heatmap_terms < 0) return "heat-map terms per image must be >= 0";
  if (sheet_images < 1) return "contact sheet images must be >= 1";
  if (batch < 1) return "batch must be >= 1";
  return band.check();
}

namespace {

using StageImages = std::vector<std::pair<std::string, std::vector<const ImageRecord*>>>;

// The images of every stage range, in the bundle's order. Errors (nothing written yet): no image,
// images without a stage range and no --stage, stage ranges the bundle lacks.
StageImages images_by_stage(const std::vector<ImageRecord>& images, const std::string& source,
                            const ModelBundle& bundle) {
  if (images.empty()) throw file_error(source, "no image to annotate");
  std::map<std::string, std::vector<const ImageRecord*>> by_stage;
  int without = 0;
  std::string first;
  for (const auto& image : images) {
    if (image.stage_range.empty() && without++ == 0) first = image.id;
    by_stage[image.stage_range].push_back(&image);
  }
  if (without > 0)
    throw file_error(source,
                     std::to_string(without) + " images have no stage range (first: " + first +
                         "): give --stage (the bundle has " + join(bundle.stage_ranges()) + ")");
  for (const auto& [stage, list] : by_stage)
    if (!bundle.stage(stage))
      throw file_error(source, std::to_string(list.size()) + " images of stage range " + stage +
                                   " (first: " + list.front()->id + "), which " + bundle.path +
                                   " has no model for (it has " + join(bundle.stage_ranges()) +
                                   "; --stages keeps only some)");
  StageImages out;
  for (const auto& s : bundle.stage_ranges())
    if (by_stage.count(s)) out.emplace_back(s, std::move(by_stage[s]));
  return out;
}

struct RunContext {
  const ModelBundle& bundle;
  FeatureSource& source;
  const AnnotateParams& params;
  std::vector<LayerGrid> grids;  // empty: no heat maps
  detail::AnnotateOutput& out;
  const Reporter& reporter;
  int64_t total = 0, handled = 0;
  // Buffers of a batch, reused by every batch: memory stays flat over a long run.
  std::vector<float> rows, group_rows;
  std::vector<std::string> failure;
  std::vector<cv::Mat> decoded;
};

// The image's top terms for heat maps: labelled 1, highest scores first, at most --heatmaps.
std::vector<int> heatmap_terms(const BatchScores& scores, int64_t i, int limit) {
  const int terms = scores.terms;
  std::vector<int> order;
  for (int t = 0; t < terms; ++t)
    if (scores.label[static_cast<size_t>(i * terms + t)]) order.push_back(t);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return scores.score[static_cast<size_t>(i * terms + a)] >
           scores.score[static_cast<size_t>(i * terms + b)];
  });
  if (static_cast<int>(order.size()) > limit) order.resize(static_cast<size_t>(limit));
  return order;
}

// One image's heat maps, drawn and written (PNG).
struct ImageMaps {
  std::vector<int> terms;
  std::vector<std::string> files;  // relative to heatmaps/
  std::vector<cv::Mat> overlays;
};

// The lines under a heat map: the term and stage range, the image, its score and votes.
// What annotations.tsv says of one (image, term): the calibrated probability (NaN without a
// calibration) and the call; the heat map's caption says the same, never a bare score.
struct TermCall {
  double probability;
  std::string call;
};

TermCall term_call(const RunContext& run, const StageAnnotator& annotator, double score, int t) {
  const auto& stage = annotator.stage();
  const TermModel& term = stage.terms[static_cast<size_t>(t)];
  const double probability = term.calibration.apply(score);
  return {probability, call_of(probability, run.out.trust(stage.stage_range, term.term).validated,
                               run.params.band)};
}

std::vector<std::string> heatmap_caption(const RunContext& run, const StageAnnotator& annotator,
                                         const ImageRecord& image, const BatchScores& scores,
                                         int64_t i, int t) {
  const size_t at = static_cast<size_t>(i * scores.terms + t);
  const TermCall c = term_call(run, annotator, scores.score[at], t);
  char numbers[96];
  if (std::isfinite(c.probability))
    std::snprintf(numbers, sizeof numbers, "probability %.2f (score %.3f)", c.probability,
                  scores.score[at]);
  else
    std::snprintf(numbers, sizeof numbers, "no calibrated probability (score %.3f)",
                  scores.score[at]);
  return {annotator.stage().terms[static_cast<size_t>(t)].term + " (stage " +
              annotator.stage().stage_range + ")",
          image.id + (image.gene.empty() ? "" : " (" + image.gene + ")") + ": call " + c.call +
              ", " + numbers + ", votes " + std::to_string(scores.votes[at]) + "/" +
              std::to_string(run.bundle.models)};
}

// The raw evidence grids of one heat map, one float64 .npy per layer: STEM.<layer>.npy, rows x
// cols, the cells' contributions in log-odds (annotator.h).
void write_evidence_grids(const std::string& stem, const std::vector<Eigen::MatrixXd>& cells,
                          const FeatureRecipe& recipe) {
  for (size_t l = 0; l < cells.size() && l < recipe.layers.size(); ++l) {
    const Eigen::MatrixXd& grid = cells[l];
    std::vector<double> values(static_cast<size_t>(grid.size()));
    for (Eigen::Index r = 0; r < grid.rows(); ++r)
      for (Eigen::Index c = 0; c < grid.cols(); ++c)
        values[static_cast<size_t>(r * grid.cols() + c)] = grid(r, c);
    write_npy(stem + "." + recipe.layers[l].name + ".npy", values,
              {static_cast<size_t>(grid.rows()), static_cast<size_t>(grid.cols())});
  }
}

// Heat maps of a batch's images, in parallel over the images (PNG encoding dominates); the
// decoded image comes from the source when it has one, else from the file (no overlay when the
// file is unreadable: the features came from a store).
std::vector<ImageMaps> draw_heatmaps(RunContext& run, const StageAnnotator& annotator,
                                     const std::vector<const ImageRecord*>& images,
                                     const std::vector<cv::Mat>& decoded, const float* rows,
                                     const BatchScores& scores,
                                     const std::vector<std::string>& slugs) {
  const auto n = static_cast<int64_t>(images.size());
  std::vector<ImageMaps> out(static_cast<size_t>(n));
  if (run.grids.empty() || run.params.heatmap_terms == 0) return out;
  const std::string& stage = annotator.stage().stage_range;
  detail::LoopErrors errors;
#pragma omp parallel for schedule(dynamic)
  for (int64_t i = 0; i < n; ++i) {
    errors.run(i, [&] {
      const ImageRecord& image = *images[static_cast<size_t>(i)];
      auto& maps = out[static_cast<size_t>(i)];
      maps.terms = heatmap_terms(scores, i, run.params.heatmap_terms);
      cv::Mat bgr = decoded[static_cast<size_t>(i)];
      if (maps.terms.empty()) return;
      if (bgr.empty() && !image.path.empty()) {
        try {
          bgr = read_image_bgr(image.path);
        } catch (const Error&) {
        }
      }
      if (bgr.empty()) {
        maps.terms.clear();
        return;
      }
      const cv::Mat mask = embryo_mask(bgr);
      for (int t : maps.terms) {
        // The file name with the image id made safe (detail::heatmap_file); the .npy grids
        // beside the PNG share its stem.
        maps.files.push_back(detail::heatmap_file(stage, image.id, slugs[static_cast<size_t>(t)]));
        const std::string& file = maps.files.back();
        const std::string stem = file.substr(0, file.size() - 4);  // without ".png"
        const auto cells = annotator.contributions(rows + i * annotator.dim(), t, run.grids);
        const cv::Mat field = evidence_field(cells, annotator.mean_bias(t), bgr.cols, bgr.rows);
        maps.overlays.push_back(render_evidence_overlay(bgr, field, mask));
        write_png(run.out.dir() + "/heatmaps/" + file,
                  heatmap_figure(maps.overlays.back(),
                                 heatmap_caption(run, annotator, image, scores, i, t)),
                  true);
        write_evidence_grids(run.out.dir() + "/heatmaps/" + stem, cells, run.bundle.recipe);
      }
    });
  }
  errors.rethrow();
  return out;
}

// The stage annotators the batches need, loaded on demand. Images are sorted by stage range and
// a batch may straddle two: at most two stage ranges' weights are held at once.
class Annotators {
 public:
  Annotators(const ModelBundle& bundle, std::string out_dir)
      : bundle_(bundle), out_dir_(std::move(out_dir)) {}
  const StageAnnotator& get(const std::string& stage) {
    auto& slot = loaded_[stage];
    if (!slot) {
      slot = std::make_unique<StageAnnotator>(bundle_, *bundle_.stage(stage));
      std::vector<std::string> terms;
      for (const auto& t : slot->stage().terms) terms.push_back(t.term);
      slugs_[stage] = detail::term_slugs(terms);
      std::filesystem::create_directories(out_dir_ + "/heatmaps/" + stage);
    }
    return *slot;
  }
  const std::vector<std::string>& slugs(const std::string& stage) const { return slugs_.at(stage); }
  void keep_only(const std::string& stage) {
    for (auto it = loaded_.begin(); it != loaded_.end();)
      it = it->first == stage ? std::next(it) : loaded_.erase(it);
  }

 private:
  const ModelBundle& bundle_;
  std::string out_dir_;
  std::map<std::string, std::unique_ptr<StageAnnotator>> loaded_;
  std::map<std::string, std::vector<std::string>> slugs_;
};

// Scores images of one stage range (rows: their features), draws their heat maps, writes rows.
void annotate_stage_images(RunContext& run, const StageAnnotator& annotator,
                           const std::vector<std::string>& slugs,
                           const std::vector<const ImageRecord*>& images,
                           const std::vector<cv::Mat>& decoded, std::vector<float>& rows) {
  const auto n = static_cast<int64_t>(images.size());
  annotator.preprocess(rows.data(), n);
  const BatchScores scores = annotator.score(rows.data(), n);
  const auto maps = draw_heatmaps(run, annotator, images, decoded, rows.data(), scores, slugs);
  const auto& stage = annotator.stage();
  for (int64_t i = 0; i < n; ++i) {
    const ImageRecord& image = *images[static_cast<size_t>(i)];
    for (int t = 0; t < scores.terms; ++t) {
      const size_t at = static_cast<size_t>(i * scores.terms + t);
      const TermCall c = term_call(run, annotator, scores.score[at], t);
      run.out.annotation(image, stage.stage_range, stage.terms[static_cast<size_t>(t)].term,
                         scores.score[at], scores.votes[at], run.bundle.models, scores.label[at],
                         c.probability, c.call);
    }
    const auto& m = maps[static_cast<size_t>(i)];
    for (size_t k = 0; k < m.files.size(); ++k) {
      const int t = m.terms[k];
      run.out.heatmap(image, stage.stage_range, stage.terms[static_cast<size_t>(t)].term,
                      scores.score[static_cast<size_t>(i * scores.terms + t)], m.files[k],
                      m.overlays[k]);
    }
  }
}

// One batch: features of all its images at once (the network sees full batches across stage
// ranges: a new batch size would cost new convolution kernels), failures skipped, then each
// stage range's images scored by its models.
void annotate_batch(RunContext& run, Annotators& annotators,
                    const std::vector<const ImageRecord*>& batch,
                    const std::vector<std::string>& layers) {
  std::vector<float>& rows = run.rows;
  std::vector<std::string>& failure = run.failure;
  std::vector<cv::Mat>& decoded = run.decoded;
  run.source.read(batch, layers, rows, failure, &decoded);
  decoded.resize(batch.size());
  const int64_t d = run.bundle.recipe.dim();
  std::vector<const ImageRecord*> group;  // consecutive good images of one stage range
  std::vector<cv::Mat> group_decoded;
  std::vector<float>& group_rows = run.group_rows;
  group_rows.clear();
  auto flush = [&] {
    if (group.empty()) return;
    const std::string& stage = group.front()->stage_range;
    const StageAnnotator& annotator = annotators.get(stage);  // before slugs(): it makes them
    annotate_stage_images(run, annotator, annotators.slugs(stage), group, group_decoded,
                          group_rows);
    group.clear();
    group_decoded.clear();
    group_rows.clear();
  };
  for (size_t i = 0; i < batch.size(); ++i) {
    const float* row = rows.data() + i * static_cast<size_t>(d);
    if (failure[i].empty() && !std::all_of(row, row + d, [](float v) { return std::isfinite(v); }))
      failure[i] = "NaN/Inf in its features";
    const std::string file = batch[i]->path.empty() ? batch[i]->id : batch[i]->path;
    if (!failure[i].empty()) {
      run.out.skipped(file, failure[i]);
      run.reporter.info("skipped " + file + ": " + failure[i]);
      continue;
    }
    if (!group.empty() && group.front()->stage_range != batch[i]->stage_range) flush();
    group.push_back(batch[i]);
    group_decoded.push_back(decoded[i]);
    group_rows.insert(group_rows.end(), row, row + d);
  }
  flush();
  annotators.keep_only(batch.back()->stage_range);
  run.handled += static_cast<int64_t>(batch.size());
  run.out.end_batch(run.handled);
  run.reporter.report("annotate", run.handled, run.total);
}

std::string run_fingerprint(const std::string& bundle_sha, const FeatureSource& source,
                            const std::vector<ImageRecord>& images, const AnnotateParams& p) {
  std::ostringstream text;
  text << bundle_sha << '|' << source.description() << '|' << images.size() << '|'
       << p.heatmap_terms << '|' << p.sheet_images << '|' << group_rule_name(p.group_rule) << '|'
       << p.batch << '|' << p.band.low << ',' << p.band.high << ',' << p.band.min_auc << '|'
       << p.validate;
  for (const auto& [key, value] : source.attributes()) text << '|' << key << '=' << value;
  for (const auto& image : images) text << '|' << image.id << ':' << image.stage_range;
  return sha256_bytes(text.str());
}

void write_run_json(const std::string& path, const ModelBundle& bundle,
                    const std::string& bundle_sha, const FeatureSource& source,
                    const AnnotateParams& params, const AnnotateSummary& summary,
                    const std::vector<std::string>& stages) {
  nlohmann::json run;
  run["format"] = "ishannot-annotation";
  run["format_version"] = kAnnotationRunFormatVersion;
  for (const auto& [key, value] : params.provenance.entries()) run["provenance"][key] = value;
  run["bundle"] = {{"path", bundle.path}, {"sha256", bundle_sha}};
  for (const char* key : {"tool_version", "created_by", "created_utc", "method", "training_scope",
                          "training_data", "term_selection"})
    if (bundle.attributes.count(key)) run["bundle"][key] = bundle.attributes.at(key);
  run["features"]["source"] = source.description();
  for (const auto& [key, value] : bundle.recipe.attributes)
    if (key != store_attr::kFinetuneGenes && key != store_attr::kScDictionaryGenes)
      run["features"]["recipe"][key] = value;
  for (const auto& l : bundle.recipe.layers) run["features"]["layers"].push_back(l.name);
  run["stage_ranges"] = stages;
  run["group_rule"] = group_rule_name(params.group_rule);
  run["call_band"] = {{"low", params.band.low},
                      {"high", params.band.high},
                      {"min_auc", params.band.min_auc},
                      {"rule",
                       "call = yes when probability > high, no when < low, else uncertain; "
                       "always uncertain when the term is not validated (CV AUC >= min_auc on "
                       ">= 2 folds) or has no probability"}};
  run["calibration"] = {{"bundle_has_calibration", bundle.calibrated},
                        {"method", bundle.attributes.count("calibration")
                                       ? bundle.attributes.at("calibration")
                                       : std::string("none (bundle written before calibration)")}};
  run["validation"] = summary.validated;
  run["heatmaps"] = {{"available", summary.heatmap_note.empty()},
                     {"per_image", params.heatmap_terms}};
  if (!summary.heatmap_note.empty()) run["heatmaps"]["reason"] = summary.heatmap_note;
  run["counts"] = {{"images", summary.images},
                   {"skipped", summary.skipped},
                   {"rows", summary.rows},
                   {"groups", summary.groups},
                   {"heatmaps", summary.heatmaps},
                   {"resumed_images", summary.resumed},
                   {"terms", summary.terms},
                   {"unvalidated_terms", summary.unvalidated_terms},
                   {"uncalibrated_terms", summary.uncalibrated_terms}};
  run["seconds"] = summary.seconds;
  write_text_atomically(path, run.dump(2) + "\n");
}

// With params.check_registration: the images checked (standardize/registration_check.h) and
// OUT/registration.tsv written; the flagged ones in the summary. Nothing when no file is read.
void check_registration_of(const std::vector<ImageRecord>& images, const AnnotateParams& params,
                           const std::string& out_dir, const Reporter& reporter,
                           AnnotateSummary& summary) {
  if (!params.check_registration) return;
  const auto checks = check_registration(images, RegistrationCheckParams(), reporter);
  for (const auto& c : checks) {
    summary.registration_checked += c.read ? 1 : 0;
    if (!c.concerns.empty() && c.read) {
      std::string line = c.image + ": ";
      for (size_t k = 0; k < c.concerns.size(); ++k) line += (k ? "; " : "") + c.concerns[k];
      summary.registration_flagged.push_back(line);
    }
  }
  write_text_atomically(out_dir + "/registration.tsv", registration_tsv(checks));
}

}  // namespace

AnnotateSummary annotate_images(const Dataset& dataset, const ModelBundle& bundle,
                                FeatureSource& source, const AnnotateParams& params,
                                const std::string& out_dir, const Reporter& reporter) {
  if (auto problem = params.check(); !problem.empty()) throw Error("annotate: " + problem);
  const auto start = std::chrono::steady_clock::now();
  std::vector<ImageRecord> images = dataset.images;
  for (auto& image : images)
    if (image.stage_range.empty()) image.stage_range = params.stage_range;
  const StageImages stages = images_by_stage(images, dataset.source, bundle);
  if (auto diff = recipe_difference(bundle.recipe, source.attributes(), source.layers());
      !diff.empty())
    throw file_error(source.description(), "features made differently from those of the bundle " +
                                               bundle.path + ": " + diff);
  if (const std::string why = source.mismatch(images); !why.empty())
    throw file_error(source.description(), why);
  if (detail::is_bag_bundle(bundle)) {  // train --unit bag: groups scored by the bag model
    AnnotateSummary summary =
        detail::annotate_bags(images, dataset.source, bundle, source, params, out_dir, reporter);
    check_registration_of(images, params, out_dir, reporter, summary);
    return summary;
  }
  AnnotateSummary summary;
  std::vector<LayerGrid> grids = recipe_grids(bundle.recipe, &summary.heatmap_note);
  const std::string bundle_sha = sha256_file(bundle.path);
  std::unordered_map<std::string, std::vector<std::string>> truth;
  detail::OutputConfig config{params.group_rule, params.sheet_images, params.band, nullptr,
                              params.check_registration};
  if (params.validate) {
    for (const auto& image : images) truth[image.id] = image.terms;
    config.truth = &truth;
  }
  detail::AnnotateOutput out(out_dir, run_fingerprint(bundle_sha, source, images, params),
                             params.resume, bundle, config);
  summary.resumed = out.done();
  if (summary.resumed > 0)
    reporter.info("resuming " + out_dir + ": " + std::to_string(summary.resumed) +
                  " images done by an interrupted run");
  RunContext run{bundle, source, params, grids, out, reporter, 0, out.done(), {}, {}, {}, {}};
  std::vector<const ImageRecord*> order;  // by stage range (the bundle's order), then input order
  std::vector<std::string> layers, stage_names;
  std::map<std::string, std::vector<std::string>> stage_terms;
  for (const auto& [stage, list] : stages) {
    order.insert(order.end(), list.begin(), list.end());
    stage_names.push_back(stage);
    for (const auto& t : bundle.stage(stage)->terms) {
      stage_terms[stage].push_back(t.term);
      ++summary.terms;
      summary.unvalidated_terms += out.trust(stage, t.term).validated ? 0 : 1;
      summary.uncalibrated_terms += t.calibration.method == CalibrationMethod::kNone ? 1 : 0;
    }
  }
  run.total = static_cast<int64_t>(order.size());
  out.reserve_groups(order, stage_terms);
  for (const auto& l : bundle.recipe.layers) layers.push_back(l.name);
  Annotators annotators(bundle, out_dir);
  for (int64_t b = out.done(); b < run.total; b += params.batch) {
    const auto first = order.begin() + b;
    annotate_batch(run, annotators, {first, first + std::min<int64_t>(params.batch, run.total - b)},
                   layers);
  }
  if (!summary.heatmap_note.empty())
    write_text_atomically(out_dir + "/heatmaps/README.txt",
                          "No heat maps for this model: " + summary.heatmap_note + ".\n");
  out.finish(summary, stage_terms);
  summary.resumed = std::min(summary.resumed, summary.images + summary.skipped);
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  write_run_json(out_dir + "/run.json", bundle, bundle_sha, source, params, summary, stage_names);
  check_registration_of(images, params, out_dir, reporter, summary);
  return summary;
}

}  // namespace ishannot
