#pragma once
// `ishannot annotate`: a model bundle applied to new images, streamed batch by batch (memory is
// bounded by the batch and one stage range's weights, not by the number of images). Writes in
// OUT_DIR (formats in docs/ANNOTATE.md):
//   annotations.tsv   image path gene stage_range stage_order term score votes members predicted
//                     probability call term_auc term_cv_folds term_positive_genes term_positives
//                     validated: one row per image x term of its stage range (probability: the
//                     term's calibration applied to score; call: eval/calibration.h call_of with
//                     the band and term_validated)
//   groups.tsv        gene stage_range stage_order term score predicted images rule probability
//                     call + the trust columns: the gene x stage-range level, images aggregated
//                     by the group rule (eval/groups.h; probability: mean, or max for max)
//   validation.tsv,   only when the data carry terms (a manifest with `terms`): per level (image,
//   reliability.tsv   group), stage range and term the calls against the truth (AUC, precision
//                     and recall of call and of predicted, Brier, ECE), and reliability bins
//   columns.tsv       every file's columns, meaning and unit (common/output_columns.h)
//   heatmaps/         index.tsv (image stage_range term score file), one PNG per image and top
//                     term (<stage>/<image>.<term>.png: the evidence drawn on the image) and a
//                     contact sheet per stage range and term (sheet_<stage>_<term>.png); without
//                     spatial features only index.tsv's header and README.txt saying why
//   skipped.tsv       file reason: images that could not be annotated (the run goes on)
//   run.json          provenance: bundle path and SHA-256, features recipe, command line, counts
//   registration.tsv  with check_registration: per image whether it looks registered like BDGP's
//                     images (standardize/registration_check.h), written at the end
// A bag bundle (`train --unit bag`) scores groups instead: groups.tsv from the bag model (the
// same columns; rule "bag:<pool>"), group_evidence.tsv (per group, term and image: its share of the
// group's linear score, images ranked), annotations.tsv (each image scored as a bag of one; no
// probability, call 'uncertain': calibrated on bags), skipped.tsv, run.json; no heat maps; images
// need a gene (docs/ANNOTATE.md, "Bag bundles"). Files are written as *.partial and renamed at the
// end; a killed run resumes after the last complete batch (annotate.progress).
#include <cstdint>
#include <map>
#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "ishannot/annotate/model_bundle.h"
#include "ishannot/common/progress.h"
#include "ishannot/common/provenance.h"
#include "ishannot/data/dataset.h"
#include "ishannot/eval/calibration.h"
#include "ishannot/eval/groups.h"
#include "ishannot/features/feature_store.h"

namespace ishannot {

/// Where annotate gets the features of a batch of images: a feature store (torch-free), or a CNN
/// run with the bundle's recipe (src/extract, ishannot_nets).
class FeatureSource {
 public:
  virtual ~FeatureSource() = default;
  /// For messages and run.json: the store's path, or the network and weights.
  virtual std::string description() const = 0;
  /// The recipe of the features it gives (a store's root attributes) and its layers.
  virtual std::map<std::string, std::string> attributes() const = 0;
  virtual std::vector<LayerSpec> layers() const = 0;
  /// Features of `images` for `layers`, concatenated in that order, into rows (images.size() x
  /// dim, row-major). An image it cannot give features for gets a non-empty failure[i] (the
  /// reason, naming the file) and is skipped by the caller; other errors throw. A source that
  /// decodes the images may hand them over in `decoded` (BGR, as read; empty Mats otherwise), so
  /// that heat maps do not decode them again.
  virtual void read(const std::vector<const ImageRecord*>& images,
                    const std::vector<std::string>& layers, std::vector<float>& rows,
                    std::vector<std::string>& failure, std::vector<cv::Mat>* decoded = nullptr) = 0;
  /// "" when the source can hold features of `images`; else why not, in one phrase. A store
  /// that records its images' genes (extract does) refuses images whose id it holds with
  /// another gene: features of another dataset with colliding ids.
  virtual std::string mismatch(const std::vector<ImageRecord>& images) const { return ""; }
};

/// Features from a store, by image id (images without a row fail with a reason).
std::unique_ptr<FeatureSource> store_feature_source(const std::string& path);

struct AnnotateParams {
  std::string stage_range;  ///< for images whose stage range the data does not give ("" = none)
  int heatmap_terms = 3;    ///< heat maps per image: its top terms by score with label 1
  int sheet_images = 16;    ///< images per contact sheet (the highest scores of the term)
  GroupRule group_rule = GroupRule::kMean;
  CallBand band;  ///< the no-call band and the minimum AUC of a validated term
  /// Compare the calls with the data's terms (validation.tsv) when the data carry terms
  bool validate = false;
  int batch = 8;       ///< images per batch (as extract: larger batches cost memory, not time)
  bool resume = true;  ///< continue an interrupted run in the same folder
  /// check that the images look registered like BDGP's (registration.tsv; images with files)
  bool check_registration = true;
  /// run.json's `provenance` (tool_version, created_by, the data ...)
  Provenance provenance;
  std::string check() const;
};

struct AnnotateSummary {
  int64_t images = 0;        ///< annotated
  int64_t skipped = 0;       ///< listed in skipped.tsv
  int64_t rows = 0;          ///< annotations.tsv rows
  int64_t groups = 0;        ///< gene x stage-range groups
  int64_t heatmaps = 0;      ///< heat-map PNGs
  int64_t resumed = 0;       ///< images taken from an interrupted run
  std::string heatmap_note;  ///< why there are no heat maps ("" when there are)
  bool validated = false;    ///< validation.tsv written
  int64_t uncalibrated_terms = 0, unvalidated_terms = 0;  ///< of the annotated stage ranges
  int64_t terms = 0;                                      ///< of the annotated stage ranges
  int64_t registration_checked = 0;  ///< images whose file the registration check read
  /// the images it flagged, each as "ID: concern; concern" (registration.tsv has them all)
  std::vector<std::string> registration_flagged;
  double seconds = 0;
};

/// Checks the input against the bundle before writing anything (Error naming the file: features
/// made with another recipe, stage ranges the bundle lacks, no image), then annotates.
AnnotateSummary annotate_images(const Dataset& images, const ModelBundle& bundle,
                                FeatureSource& source, const AnnotateParams& params,
                                const std::string& out_dir, const Reporter& reporter = {});

}  // namespace ishannot
