// train (train.h), step 1: what one stage range trains on — the images with features, the terms,
// evaluate's outer folds, the training rows — as an EvaluationStage so that the cross-validation
// runs evaluate's own tasks.
#include <algorithm>
#include <climits>
#include <set>

#include "annotate/train_plan.h"
#include "ishannot/common/error.h"
#include "ishannot/data/folds.h"

namespace ishannot::detail {

namespace {

// The problem with the terms to train: the top-k one (evaluate's), or every term filtered by an
// explicit list or a minimum number of positive genes (in order of frequency).
StageProblem trained_terms(const Dataset& matched, const std::string& stage,
                           const StageProblem& top_k, const TrainParams& params) {
  if (params.explicit_terms.empty() && params.min_positive_genes <= 0) return top_k;
  TermSelectionParams all = params.terms;
  all.top_k = INT_MAX;
  const StageProblem every = select_terms(matched, stage, all);
  StageProblem out = every;
  out.terms.clear();
  out.positives.clear();
  std::vector<int> keep;
  for (size_t t = 0; t < every.terms.size(); ++t) {
    bool wanted;
    if (!params.explicit_terms.empty()) {
      wanted = std::find(params.explicit_terms.begin(), params.explicit_terms.end(),
                         every.terms[t]) != params.explicit_terms.end();
    } else {
      std::set<std::string> genes;
      for (int r = 0; r < every.rows(); ++r)
        if (every.label(r, static_cast<int>(t)))
          genes.insert(matched.images[static_cast<size_t>(every.image_indices[r])].gene);
      wanted = static_cast<int>(genes.size()) >= params.min_positive_genes;
    }
    if (!wanted) continue;
    keep.push_back(static_cast<int>(t));
    out.terms.push_back(every.terms[t]);
    out.positives.push_back(every.positives[t]);
  }
  out.labels.assign(static_cast<size_t>(every.rows()) * keep.size(), 0);
  for (int r = 0; r < every.rows(); ++r)
    for (size_t k = 0; k < keep.size(); ++k)
      out.labels[static_cast<size_t>(r) * keep.size() + k] = every.label(r, keep[k]);
  return out;
}

}  // namespace

StagePlan plan_stage(const Dataset& matched, const std::string& stage_name, uint64_t stage_index,
                     const std::unordered_map<std::string, int64_t>& row_of,
                     const TrainParams& params) {
  StagePlan plan;
  auto& stage = plan.stage;
  stage.name = stage_name;
  stage.index = stage_index;
  stage.matched = matched;
  const bool restricted = params.fold >= 0 || !params.train_genes.empty();
  StageProblem top_k;
  if (params.folds >= 2) {
    OuterFoldParams fp;
    fp.folds = params.folds;
    fp.seed = params.seed;
    fp.terms = params.terms;
    try {
      OuterFolds outer = outer_folds(matched, stage_name, fp);
      top_k = std::move(outer.problem);
      stage.folds = std::move(outer.fold);
      plan.folds = params.folds;
    } catch (const Error& e) {
      if (params.fold >= 0) throw Error("stage range " + stage_name + ": " + e.what());
      plan.notes.push_back(std::string("no cross-validated quality: ") + e.what());
    }
  }
  if (stage.folds.empty()) {
    top_k = select_terms(matched, stage_name, params.terms);
    stage.folds.assign(static_cast<size_t>(top_k.rows()), 0);
  }
  stage.problem = trained_terms(matched, stage_name, top_k, params);
  for (int i : stage.problem.image_indices) {
    const auto& image = matched.images[static_cast<size_t>(i)];
    stage.genes.push_back(image.gene);
    plan.store_rows.push_back(row_of.at(image.id));
  }
  const std::set<std::string> listed(params.train_genes.begin(), params.train_genes.end());
  for (int r = 0; r < stage.problem.rows(); ++r) {
    const bool train = params.fold >= 0  ? stage.folds[static_cast<size_t>(r)] != params.fold
                       : !listed.empty() ? listed.count(stage.genes[static_cast<size_t>(r)]) > 0
                                         : true;
    if (train) plan.train_rows.push_back(r);
  }
  if (plan.train_rows.empty())
    throw Error("stage range " + stage_name + ": none of the training genes has an image");
  plan.cross_validate = plan.folds >= 2 && !restricted;
  if (restricted && params.folds >= 2)
    plan.notes.push_back("no cross-validated quality: training is restricted to some genes (" +
                         std::string(params.fold >= 0 ? "--fold" : "--train-genes") +
                         "); evaluate the held-out genes with annotate instead");
  // As evaluate: a term whose positives come from a single gene cannot be cross-validated (its
  // CV tasks are skipped); its final model is still fitted when the training genes have both
  // classes, with a note when all its training positives come from one gene.
  stage.skip_term.assign(stage.problem.terms.size(), 0);
  for (size_t t = 0; t < stage.problem.terms.size(); ++t) {
    std::set<std::string> genes, train_genes;
    for (int r = 0; r < stage.problem.rows(); ++r)
      if (stage.problem.label(r, static_cast<int>(t)))
        genes.insert(stage.genes[static_cast<size_t>(r)]);
    for (int r : plan.train_rows)
      if (stage.problem.label(r, static_cast<int>(t)))
        train_genes.insert(stage.genes[static_cast<size_t>(r)]);
    stage.skip_term[t] = genes.size() < 2 ? 1 : 0;
    if (train_genes.size() == 1)
      plan.notes.push_back("term '" + stage.problem.terms[t] +
                           "': all its training positives come from one gene (" +
                           *train_genes.begin() + "): the model may know that gene, not the term");
  }
  return plan;
}

}  // namespace ishannot::detail
