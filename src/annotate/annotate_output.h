#pragma once
// Internal to annotate (src/annotate/annotate_*.cpp): the output folder of a run — files appended
// batch by batch as *.partial, a progress record after every batch (resume), the group
// accumulators and the best heat maps per term (contact sheets), and the final renames.
#include <cstdint>
#include <fstream>
#include <limits>
#include <map>
#include <opencv2/core.hpp>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "annotate/annotate_validation.h"
#include "ishannot/annotate/annotate.h"
#include "ishannot/eval/calibration.h"

namespace ishannot::detail {

/// One heat map kept for a contact sheet.
struct SheetEntry {
  double score = 0;
  std::string image, gene, file;  ///< file relative to heatmaps/
  std::string path;               ///< the image file (its size finds the overlay in the figure)
  cv::Mat thumbnail;              ///< the overlay at sheet size (empty after a resume: read back)
};

/// What the bundle says of one term's quality (annotations.tsv's and groups.tsv's trust columns).
struct TermTrust {
  double auc = std::numeric_limits<double>::quiet_NaN();
  int folds = 0;
  int64_t positive_genes = 0, positives = 0;
  bool validated = false;
};

/// A term's trust as the bundle records it (CV AUC, folds, genes, positives, validated by `band`).
TermTrust trust_of(const TermModel& term, const CallBand& band);
/// The trust columns of a row, term_auc .. validated, each after a tab.
std::string trust_fields(const TermTrust& t);
/// A number as written in the TSVs, or an empty cell when it is not finite (no calibration).
std::string optional_number(double v);

/// How annotate_images configures its output folder.
struct OutputConfig {
  GroupRule rule = GroupRule::kMean;
  int sheet_images = 16;
  CallBand band;
  /// image id -> its terms in the data, when the data carry terms (validation.tsv); else null
  const std::unordered_map<std::string, std::vector<std::string>>* truth = nullptr;
  bool registration = false;  ///< registration.tsv is written after the run (columns.tsv)
};

class AnnotateOutput {
 public:
  /// Opens OUT_DIR for a run with this fingerprint. With resume and a progress record of the same
  /// fingerprint, the partial files are cut back to the last complete batch and its state is
  /// rebuilt (done()); a record of another fingerprint is an Error naming --restart; otherwise
  /// everything starts over, and what an earlier annotate left in OUT_DIR (its TSVs, run.json,
  /// heat maps and sheets) is removed first, so that the folder never mixes two runs. The bundle
  /// gives the terms' trust.
  AnnotateOutput(const std::string& out_dir, const std::string& fingerprint, bool resume,
                 const ModelBundle& bundle, const OutputConfig& config);
  const TermTrust& trust(const std::string& stage, const std::string& term) const;

  int64_t done() const { return done_; }  ///< images (annotated or skipped) already handled
  const std::string& dir() const { return dir_; }

  /// Makes the accumulator of every gene x stage group and term the images will feed, before the
  /// first batch: the batches then allocate nothing that outlives them, so the heap does not
  /// fragment (and grow) with the number of groups over a long run.
  void reserve_groups(const std::vector<const ImageRecord*>& images,
                      const std::map<std::string, std::vector<std::string>>& stage_terms);
  /// One annotations.tsv row, and the group (and validation) it feeds.
  void annotation(const ImageRecord& image, const std::string& stage, const std::string& term,
                  double score, int votes, int members, int predicted, double probability,
                  const std::string& call);
  /// One heat map PNG written (file relative to heatmaps/); `overlay` (may be empty) becomes the
  /// contact sheet's thumbnail when the image is among the term's best. Empty (a resumed run's
  /// heat maps), the thumbnail is made at the end from the PNG: its top-left corner of the size of
  /// `image.path` is the overlay (heatmap_figure), so a resumed run's sheets are the same bytes.
  void heatmap(const ImageRecord& image, const std::string& stage, const std::string& term,
               double score, const std::string& file, const cv::Mat& overlay = cv::Mat());
  void skipped(const std::string& file, const std::string& reason);
  /// Ends a batch: flushes and records the progress (`images` handled in total).
  void end_batch(int64_t images);

  /// groups.tsv, validation.tsv and reliability.tsv (with truth), the contact sheets, the
  /// renames; returns the counts.
  void finish(AnnotateSummary& summary,
              const std::map<std::string, std::vector<std::string>>& stage_terms);

  int64_t images() const { return images_; }
  int64_t heatmaps() const { return heatmaps_; }
  int64_t rows() const { return rows_; }

 private:
  void start_over();
  bool restore(const std::string& fingerprint);

  std::string dir_, fingerprint_;
  GroupRule rule_;
  int sheet_images_;
  OutputConfig config_;
  std::map<std::pair<std::string, std::string>, TermTrust> trust_;  // (stage, term)
  ValidationTable validation_;
  std::ofstream annotations_, index_, skips_;
  int64_t done_ = 0, images_ = 0, skipped_ = 0, heatmaps_ = 0, rows_ = 0;
  std::string last_image_;  ///< for counting annotated images from rows
  void add_row(const std::string& image, const std::string& stage, const std::string& gene,
               const std::string& term, double score, int votes, int members, int predicted,
               double probability, const std::string& call);
  std::string groups_tsv(const std::map<std::string, std::vector<std::string>>& stage_terms);

  // (stage, gene) -> term -> accumulator (images without a gene are not grouped).
  struct GroupState {
    GroupAccumulator scores;
    double probability_sum = 0, probability_max = 0;
    int probabilities = 0;  // images with a probability
    bool truth = false;     // any image carries the term in the data
  };
  std::map<std::pair<std::string, std::string>, std::map<std::string, GroupState>> groups_;
  int64_t written_groups_ = 0;  // rows-bearing groups of groups.tsv (groups_tsv)
  std::map<std::pair<std::string, std::string>, std::vector<SheetEntry>> sheets_;
};

/// File-name forms of a stage's terms: letters, digits and '-' kept, runs of anything else as one
/// '_' ("embryonic/larval muscle system" -> "embryonic_larval_muscle_system"); made unique with
/// "_2", "_3"... Heat maps are heatmaps/<stage>/<image>.<slug>.png, contact sheets
/// heatmaps/sheet_<stage>_<slug>.png.
std::vector<std::string> term_slugs(const std::vector<std::string>& terms);

/// The heat map of an image for a term, relative to heatmaps/: "<stage>/<image>.<slug>.png", the
/// image id with '/', '\\', tabs and newlines as '_' (and a leading '.' prefixed with '_'), so that
/// the file stays in its stage's folder and its name is a clean TSV field.
std::string heatmap_file(const std::string& stage, const std::string& image,
                         const std::string& slug);

}  // namespace ishannot::detail
