#pragma once
// The report's figures as Vega-Lite specs (JSON, data inlined): plotting is Vega-Lite's job, this
// code only decides what is plotted. Every spec is standalone (title, legend, data), so its SVG
// can go into a paper as is. The numbers come from report/comparison.h (evaluate runs) and
// report/run_outputs.h (annotate runs); nothing is recomputed from predictions except Figure 7's
// agreement and the ROC thinning.
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ishannot/report/comparison.h"
#include "ishannot/report/run_outputs.h"
#include "ishannot/report/thumbnails.h"

namespace ishannot {

/// One figure of the report.
struct Figure {
  std::string id;       ///< file stem and HTML anchor: "table2", "figure5-methods", ...
  std::string title;    ///< heading in the report
  std::string caption;  ///< how to read it (plain text)
  nlohmann::json spec;  ///< Vega-Lite spec, data inlined
};

/// Table 2 as a figure: per metric and stage range, our mean +- std over terms (dots and bars)
/// beside the paper's published means (open diamonds), one colour per method.
Figure table2_figure(const Comparison& comparison);

/// Figures 3/4: mean AUC over terms by layer, one panel per stage range, one line per method,
/// bars = +- std over terms. Methods with a single layer that no other method shares are left
/// out (they appear in Figure 5); nullopt when no method has two layers.
std::optional<Figure> layer_figure(const Comparison& comparison);

/// Figure 5: per stage range, the methods side by side (mean AUC over the terms they share,
/// +- std over terms) at their shown layer.
Figure methods_figure(const Comparison& comparison);

/// Figure 6: per stage range, each shared term's AUC (mean over folds, bars = +- std over
/// folds), methods side by side.
Figure terms_figure(const Comparison& comparison);

/// What Figure 7 shows in one cell: how the two methods' votes compare with the truth.
enum class Agreement {
  kSame,            ///< both predict the same label (both right or both wrong): white
  kFirstPositive,   ///< first method right, second wrong, on a positive: green
  kFirstNegative,   ///< first right, second wrong, on a negative: blue
  kSecondPositive,  ///< second right, first wrong, on a positive: red
  kSecondNegative,  ///< second right, first wrong, on a negative: pink
};

/// Agreement of one image x term cell from the truth and the two votes (0/1).
Agreement agreement_of(int label, int first_vote, int second_vote);

/// A method at a layer (one side of Figure 7).
struct MethodLayer {
  std::string method, layer;
  std::string name() const { return method + " · " + layer; }
};

/// Figure 7's data for one stage range: the `max_images` images with the most terms (ties: gene,
/// then id), the terms both sides have, and every cell's agreement.
struct AgreementMap {
  MethodLayer first, second;
  std::string stage_range;
  std::vector<std::string> terms;
  struct Image {
    std::string id, gene;
    int terms = 0;  ///< positives among `terms`
  };
  std::vector<Image> images;  ///< rows, most terms first
  struct Cell {
    std::string id, term;
    int label = 0;
    Agreement agreement = Agreement::kSame;
  };
  std::vector<Cell> cells;
  int images_available = 0;  ///< images both sides predicted, with the same truth
  /// Images whose annotation differs between the two runs (another dataset?): left out.
  int images_with_other_truth = 0;
};

/// Builds the map from the runs' predictions (the rows of `first`/`second`'s method and layer
/// in `stage_range`, from any of `sources`). Images predicted by one side only are left out.
AgreementMap agreement_map(const std::vector<const std::vector<MethodPrediction>*>& sources,
                           const MethodLayer& first, const MethodLayer& second,
                           const std::string& stage_range, int max_images);
/// The same from one table of predictions.
AgreementMap agreement_map(const std::vector<MethodPrediction>& predictions,
                           const MethodLayer& first, const MethodLayer& second,
                           const std::string& stage_range, int max_images);

/// The two sides Figure 7 compares by default: the methods with the best and the worst mean AUC
/// (over stage ranges) at their shown layers; with a single method, its best and worst layers.
/// nullopt when there is one method with one layer.
std::optional<std::pair<MethodLayer, MethodLayer>> default_agreement_pair(
    const Comparison& comparison, const std::string& stage_range);

/// Figure 7 for one stage range; `thumbnail_of` maps image ids to data URIs ("" = none; the
/// thumbnail column is left out when no image has one).
Figure agreement_figure(const AgreementMap& map,
                        const std::map<std::string, std::string>& thumbnail_of);

/// Pooled out-of-fold ROC curves of one stage range: a panel per term, a line per method (at its
/// shown layer), thinned to steps of at least 1/200 in fpr + tpr; nullopt without roc rows.
/// `sources`: the runs' roc.tsv rows.
std::optional<Figure> roc_figure(const Comparison& comparison,
                                 const std::vector<const std::vector<RocRow>*>& sources,
                                 const std::string& stage_range);

/// ROC points thinned for plotting: the first and last points, and every point at least `step`
/// (in |dfpr| + |dtpr|) from the last one kept. Points in curve order.
std::vector<RocRow> thin_roc(const std::vector<RocRow>& curve, double step);

/// "Image vs bag": per stage range, the mean over terms of the image-level AUC, the aggregated-
/// image group AUC (unit image runs' group_auc), each bag learner's group AUC (unit bag runs, by
/// bag pooling) and macro-F1 (group_f1), one bar per learner x method x layer; nullopt when no
/// run is a bag run (run.json config.unit).
std::optional<Figure> bag_figure(const std::vector<EvaluationRun>& runs);

/// Group-level annotation of an annotate run: per stage range, gene x term, coloured by the
/// calibrated probability (the score without calibration) on a diverging scale centred on the
/// no-call band (run.json call_band), a dot where the call is yes, unvalidated terms faded;
/// nullopt without groups.tsv rows.
std::optional<Figure> groups_figure(const AnnotationRun& run, const std::string& id);

/// Reliability diagram of an annotate run whose data carry terms (reliability.tsv): per level
/// and stage range, the share of calls carrying the term against their mean probability, with
/// the diagonal of perfect calibration; nullopt without reliability rows.
std::optional<Figure> reliability_figure(const AnnotationRun& run, const std::string& id);

}  // namespace ishannot
