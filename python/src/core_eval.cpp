// evaluate (eval/evaluation.h) for Python: the protocol's result as column tables, and the
// CLI's output folder when asked for.
#include <pybind11/stl.h>

#include "core_bind.h"
#include "core_options.h"
#include "ishannot/common/error.h"
#include "ishannot/data/dataset.h"
#include "ishannot/eval/evaluation.h"
#include "ishannot/features/feature_store.h"
#include "ishannot/features/store_attributes.h"
#include "ishannot/version.h"

namespace ishannot::python {

namespace {

py::dict metrics_table(const std::vector<MetricRow>& rows) {
  std::vector<std::string> method, layer, stage, term, metric;
  std::vector<int> order, fold;
  std::vector<double> value;
  for (const auto& r : rows) {
    method.push_back(r.method);
    layer.push_back(r.layer);
    stage.push_back(r.stage_range);
    order.push_back(stage_order(r.stage_range));
    term.push_back(r.term);
    fold.push_back(r.fold);
    metric.push_back(r.metric);
    value.push_back(r.value);
  }
  py::dict d;
  d["method"] = method;
  d["layer"] = layer;
  d["stage_range"] = stage;
  d["stage_order"] = order;
  d["term"] = term;
  d["fold"] = fold;
  d["metric"] = metric;
  d["value"] = value;
  return d;
}

py::dict predictions_table(const std::vector<PredictionRow>& rows) {
  std::vector<std::string> id, gene, stage, layer, term;
  std::vector<int> fold, label, vote, votes, members;
  std::vector<double> score;
  for (const auto& r : rows) {
    id.push_back(r.id);
    gene.push_back(r.gene);
    stage.push_back(r.stage_range);
    layer.push_back(r.layer);
    term.push_back(r.term);
    fold.push_back(r.fold);
    label.push_back(r.label);
    score.push_back(r.score);
    vote.push_back(r.vote);
    votes.push_back(r.votes);
    members.push_back(r.members);
  }
  py::dict d;
  d["image"] = id;
  d["gene"] = gene;
  d["stage_range"] = stage;
  d["layer"] = layer;
  d["term"] = term;
  d["fold"] = fold;
  d["label"] = label;
  d["score"] = score;
  d["vote"] = vote;
  d["votes"] = votes;
  d["members"] = members;
  return d;
}

py::dict skips_table(const std::vector<SkipRow>& rows) {
  std::vector<std::string> layer, stage, term, reason;
  std::vector<int> fold;
  for (const auto& r : rows) {
    layer.push_back(r.layer);
    stage.push_back(r.stage_range);
    term.push_back(r.term);
    fold.push_back(r.fold);
    reason.push_back(r.reason);
  }
  py::dict d;
  d["layer"] = layer;
  d["stage_range"] = stage;
  d["term"] = term;
  d["fold"] = fold;
  d["reason"] = reason;
  return d;
}

py::dict summary_rows(const std::vector<SummaryRow>& rows) {
  std::vector<std::string> method, layer, stage, metric;
  std::vector<double> mean, std_terms, mean_folds, std_folds;
  std::vector<int> terms, test_images;
  for (const auto& r : rows) {
    method.push_back(r.method);
    layer.push_back(r.layer);
    stage.push_back(r.stage_range);
    metric.push_back(r.metric);
    mean.push_back(r.over_terms.mean);
    std_terms.push_back(r.over_terms.std);
    terms.push_back(r.over_terms.count);
    mean_folds.push_back(r.over_folds.mean);
    std_folds.push_back(r.over_folds.std);
    test_images.push_back(r.test_images);
  }
  py::dict d;
  d["method"] = method;
  d["layer"] = layer;
  d["stage_range"] = stage;
  d["metric"] = metric;
  d["mean"] = mean;
  d["std"] = std_terms;
  d["terms"] = terms;
  d["mean_over_folds"] = mean_folds;
  d["std_over_folds"] = std_folds;
  d["test_images"] = test_images;
  return d;
}

}  // namespace

void bind_eval(py::module_& m) {
  m.def("evaluate", [](const Dataset& dataset, const std::string& features, const py::dict& options,
                       const std::string& out, int threads, py::object progress) {
    const EvaluationParams params = evaluation_params(options);
    apply_threads(threads);
    Progress bridge(std::move(progress));
    EvaluationResult result;
    {
      py::gil_scoped_release release;
      const FeatureStoreReader store(features);
      result = run_evaluation(dataset, store, params, bridge.reporter());
      if (!out.empty()) {
        Provenance provenance;
        provenance.command_line = "python: ishannot.evaluate";
        provenance.add_input("dataset", dataset.source).add_input("features", features);
        provenance.extra = store_provenance_entries(store.attributes(), "features.");
        write_evaluation_outputs(out, result, params, provenance);
      }
    }
    bridge.rethrow();
    py::dict d;
    d["metrics"] = metrics_table(result.metrics);
    d["predictions"] = predictions_table(result.predictions);
    d["skipped"] = skips_table(result.skipped);
    d["notes"] = skips_table(result.notes);
    d["summary"] = summary_rows(result.summary);
    d["summary_table"] = summary_table(result);
    d["layers"] = result.layers;
    d["stage_ranges"] = result.stage_ranges;
    return d;
  });
}

}  // namespace ishannot::python
