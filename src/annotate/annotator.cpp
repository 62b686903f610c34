// StageAnnotator (annotator.h): preprocessing, member decisions as one chunked matrix product
// (float products, double accumulation across column chunks), scores, votes, evidence maps.
#include "ishannot/annotate/annotator.h"

#include <algorithm>
#include <cmath>

#include "detail/parallel.h"
#include "ishannot/common/assert.h"
#include "ishannot/common/error.h"
#include "ishannot/learn/logistic.h"

namespace ishannot {

StageAnnotator::StageAnnotator(const ModelBundle& bundle, StageModel stage)
    : preprocessing_(bundle.preprocessing),
      models_(bundle.models),
      vote_threshold_(bundle.vote_threshold),
      stage_(std::move(stage)) {
  if (stage_.weights.size() == 0) load_stage_weights(bundle, stage_);
  if (stage_.mil_components > 0) return;  // an attention stage: project() and the MIL model
  const auto terms = static_cast<Eigen::Index>(stage_.terms.size());
  mean_weights_ = RowMatrixD::Zero(terms, stage_.weights.cols());
  for (Eigen::Index t = 0; t < terms; ++t) {
    for (int k = 0; k < models_; ++k)
      mean_weights_.row(t) += stage_.weights.row(t * models_ + k).cast<double>();
    mean_weights_.row(t) /= models_;
  }
}

void StageAnnotator::preprocess(float* features, int64_t rows) const {
  const int64_t d = dim();
  Eigen::Map<RowMatrixF> x(features, rows, d);
  if (preprocessing_ == Preprocessing::kL2) {
    for (int64_t i = 0; i < rows; ++i) {
      const double sq = x.row(i).cast<double>().squaredNorm();
      x.row(i) *= sq > 0 ? static_cast<float>(1.0 / std::sqrt(sq)) : 0.0f;
    }
  } else if (preprocessing_ == Preprocessing::kStandardise) {
    ISHANNOT_ASSERT(stage_.mean.size() == d && stage_.scale.size() == d,
                    "standardisation statistics not loaded");
    x = ((x.rowwise() - stage_.mean.transpose()).array().rowwise() *
         stage_.scale.transpose().array())
            .matrix();
  }
}

Eigen::MatrixXd StageAnnotator::products(const float* preprocessed, int64_t rows) const {
  const int64_t d = dim();
  const auto members = static_cast<Eigen::Index>(stage_.weights.rows());
  Eigen::Map<const RowMatrixF> z(preprocessed, rows, d);
  // Decisions = Z W^T: float products over chunks of 4096 columns, in parallel over the chunks
  // (one parallel region per batch: Eigen would open one per product, which costs more than the
  // product on a busy machine), summed in double in chunk order (the same sums at any thread
  // count).
  constexpr int64_t kChunk = 4096;
  const int64_t chunks = (d + kChunk - 1) / kChunk;
  std::vector<Eigen::MatrixXd> parts(static_cast<size_t>(chunks));
  detail::LoopErrors errors;
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < chunks; ++c) {
    errors.run(c, [&] {
      const int64_t c0 = c * kChunk, w = std::min(kChunk, d - c0);
      const Eigen::MatrixXf partial =
          z.middleCols(c0, w) * stage_.weights.middleCols(c0, w).transpose();
      parts[static_cast<size_t>(c)] = partial.cast<double>();
    });
  }
  errors.rethrow();
  Eigen::MatrixXd decision = Eigen::MatrixXd::Zero(rows, members);
  for (const auto& part : parts) decision += part;
  return decision;
}

Eigen::MatrixXd StageAnnotator::project(const float* preprocessed, int64_t rows) const {
  ISHANNOT_ASSERT(stage_.mil_components > 0, "project() on an ensemble stage");
  Eigen::MatrixXd z = products(preprocessed, rows).transpose();
  z.colwise() -= stage_.projection_offset;
  return z;
}

BatchScores StageAnnotator::score(const float* preprocessed, int64_t rows) const {
  ISHANNOT_ASSERT(stage_.mil_components == 0, "score() on an attention stage (use project)");
  const Eigen::MatrixXd decision = products(preprocessed, rows);
  BatchScores out;
  out.images = rows;
  out.terms = static_cast<int>(stage_.terms.size());
  const size_t cells = static_cast<size_t>(rows) * static_cast<size_t>(out.terms);
  out.score.assign(cells, 0.0);
  out.votes.assign(cells, 0);
  out.label.assign(cells, 0);
  out.decision.assign(cells, 0.0);
  for (int64_t i = 0; i < rows; ++i)
    for (int t = 0; t < out.terms; ++t) {
      const size_t at = static_cast<size_t>(i) * static_cast<size_t>(out.terms) + t;
      for (int k = 0; k < models_; ++k) {
        const double f = decision(i, static_cast<Eigen::Index>(t) * models_ + k) +
                         stage_.terms[static_cast<size_t>(t)].bias[static_cast<size_t>(k)];
        out.score[at] += sigmoid(f);
        out.decision[at] += f;
        out.votes[at] += f > 0 ? 1 : 0;
      }
      out.score[at] /= models_;
      out.decision[at] /= models_;
      out.label[at] = static_cast<uint8_t>(out.votes[at] >= vote_threshold_);
    }
  return out;
}

double StageAnnotator::mean_bias(int term) const {
  double sum = 0;
  for (double b : stage_.terms[static_cast<size_t>(term)].bias) sum += b;
  return sum / models_;
}

std::vector<Eigen::MatrixXd> StageAnnotator::contributions(
    const float* preprocessed, int term, const std::vector<LayerGrid>& grids) const {
  std::vector<Eigen::MatrixXd> maps;
  int64_t offset = 0;
  const double* w = mean_weights_.row(term).data();  // row-major: contiguous
  for (const auto& g : grids) {
    const int64_t cells = static_cast<int64_t>(g.rows) * g.cols;
    std::vector<double> sum(static_cast<size_t>(cells), 0.0);  // cells in row-major order
    for (int64_t c = 0; c < g.channels; ++c) {
      const double* wc = w + offset + c * cells;
      const float* zc = preprocessed + offset + c * cells;
      for (int64_t cell = 0; cell < cells; ++cell)
        sum[static_cast<size_t>(cell)] += wc[cell] * zc[cell];
    }
    Eigen::MatrixXd map(g.rows, g.cols);
    for (int64_t cell = 0; cell < cells; ++cell)
      map(cell / g.cols, cell % g.cols) = sum[static_cast<size_t>(cell)];
    maps.push_back(std::move(map));
    offset += g.channels * cells;
  }
  ISHANNOT_ASSERT(offset == dim(), "the layer grids do not cover the features");
  return maps;
}

}  // namespace ishannot
