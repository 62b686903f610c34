#pragma once
// Bags: BDGP annotates a gene at a stage range (a group), so a group's images form a bag that
// carries the group's terms. `evaluate --unit bag` and `train --unit bag` learn from bags instead
// of from images that inherit their group's labels (docs/EVALUATION.md, "Bag level").
//
// A bag's feature vector pools its images' (preprocessed) feature vectors:
//   mean     the mean of the images' vectors. Its Gram follows exactly from the image Gram:
//            K_bag = P K Pᵀ with P (bags x images), P_bi = 1/|b| for the images i of bag b
//            (mean_pooled_gram; no pass over the store).
//   max      the per-dimension maximum over the images. Not a function of the image Gram: one
//            streamed pass over the store in column slabs (max_pooled_gram; the bag matrix is
//            never in memory, only a bags x slab block).
//   meanmax  mean ‖ max concatenated; its Gram is the sum of the two (each part l2-normalised
//            first when the preprocessing is l2, so the two halves weigh the same).
//   attention  not a fixed pooling: a gated-attention MIL model (learn/attention_mil.h) learns
//            per term which images of a bag carry the call, on kernel-PCA coordinates of the
//            images (learn/kernel_pca.h, fitted on each outer fold's training images).
// With l2 preprocessing every image is scaled to unit norm before pooling and the pooled bag
// vector is scaled to unit norm again (by the caller, l2_normalise_gram on the bag Gram).
#include <Eigen/Dense>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ishannot/data/dataset.h"
#include "ishannot/features/feature_store.h"
#include "ishannot/learn/gram.h"

namespace ishannot {

/// The unit a learner is trained and evaluated on: an image (the paper) or a gene x stage-range
/// bag of images.
enum class EvaluationUnit { kImage, kBag };
/// "image" | "bag"; Error otherwise.
EvaluationUnit parse_evaluation_unit(const std::string& name);
std::string evaluation_unit_name(EvaluationUnit unit);

/// How a bag's image vectors become one vector (see above).
enum class BagPool { kMean, kMax, kMeanMax, kAttention };
/// "mean" | "max" | "meanmax" | "attention"; Error otherwise.
BagPool parse_bag_pool(const std::string& name);
std::string bag_pool_name(BagPool pool);

/// The bags of one stage range: rows of an image table (e.g. a StageProblem's rows) grouped by
/// gene, in order of each gene's first row.
struct Bags {
  std::vector<std::string> genes;      ///< per bag
  std::vector<std::vector<int>> rows;  ///< per bag: its image rows, ascending, never empty
  std::vector<int> dropped_rows;       ///< per bag: rows left out because they were flagged
  int size() const { return static_cast<int>(genes.size()); }
};

/// Groups `images` (one per row) by gene. Rows flagged in `drop` (may be empty: none) are left
/// out and counted in Bags::dropped_rows; a gene all of whose rows are flagged makes no bag (the
/// caller says so). A bag of one image is a bag. Throws Error naming the gene (and `source`)
/// when one gene's images have different stage ranges: a bag is one gene at ONE stage range.
Bags make_bags(const std::vector<const ImageRecord*>& images, const std::vector<uint8_t>& drop,
               const std::string& source);

/// K_bag = P K Pᵀ, the Gram of the bags' mean vectors, from the Gram of the image rows.
Eigen::MatrixXd mean_pooled_gram(const Eigen::MatrixXd& image_gram, const Bags& bags);

/// The Gram of the bags' max vectors, streamed from `store`: `store_rows[r]` is the store row of
/// image row r and `scale[r]` the factor its vector is multiplied by before pooling (1/‖x‖ for
/// l2, 1 for none; NaN/Inf values are read as 0, as compute_gram does). Reads the bags' rows once,
/// params.slab_columns columns at a time.
Eigen::MatrixXd max_pooled_gram(const FeatureStoreReader& store, const std::string& layer,
                                const std::vector<int64_t>& store_rows,
                                const std::vector<double>& scale, const Bags& bags,
                                const GramParams& params);

/// The bags' max vectors of `layer`, streamed as max_pooled_gram reads them: visit(c0, pooled)
/// for every column slab, pooled = bags x width (columns [c0, c0 + width) of every bag's vector).
void visit_max_pooled(const FeatureStoreReader& store, const std::string& layer,
                      const std::vector<int64_t>& store_rows, const std::vector<double>& scale,
                      const Bags& bags, const GramParams& params,
                      const std::function<void(int64_t, const Eigen::MatrixXd&)>& visit);

/// One bag's pooled vector from its images' vectors (`count` rows of `dim` floats, row-major),
/// each multiplied by scale[i] first: mean, max, or mean ‖ max (2 dim values; with `l2_parts`
/// each half is scaled to unit norm). What train --unit bag and annotate apply to a group.
/// Throws Error for kAttention (a learned pooling, not a vector).
std::vector<float> pool_bag(const float* rows, int count, int64_t dim,
                            const std::vector<double>& scale, BagPool pool, bool l2_parts);

}  // namespace ishannot
