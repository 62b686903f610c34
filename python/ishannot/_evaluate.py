"""evaluate: the paper's protocol on stored features, as ``ishannot evaluate``."""

import os as _os

from . import _core


class Evaluation:
    """``evaluate``'s result. DataFrames: ``metrics`` (metrics.tsv: method, layer, stage_range,
    stage_order, term, fold, metric, value), ``predictions`` (out-of-fold scores),
    ``summary`` (Table 2's mean ± std over terms), ``skipped`` and ``notes`` (what was not
    evaluated or chosen by routine, and why). ``table`` is summary.md's Markdown;
    ``layers`` and ``stage_ranges`` what was evaluated."""

    def __init__(self, result):
        from . import _frame
        self.metrics = _frame(result["metrics"])
        self.predictions = _frame(result["predictions"])
        self.summary = _frame(result["summary"])
        self.skipped = _frame(result["skipped"])
        self.notes = _frame(result["notes"])
        self.table = result["summary_table"]
        self.layers = list(result["layers"])
        self.stage_ranges = list(result["stage_ranges"])

    def __repr__(self):
        return (f"<ishannot.Evaluation: {len(self.metrics)} metric values, layers "
                f"{', '.join(self.layers)}, stage ranges {', '.join(self.stage_ranges)}>")


def evaluate(data, features, out=None, layers=None, concat=True, stages=None, top_k=10,
             view="lateral", exclude=(), folds=5, inner_folds=3, c_grid=None, inner_models=3,
             models=11, fallback_c=1.0, preprocess="l2", method="TL", level="image",
             group_rule="mean", seed=1234, threads=0, progress=None):
    """Runs the paper's protocol (``ishannot evaluate``) on a feature store and returns an
    ``Evaluation``; the numbers are the CLI's for the same options and seed.

    data: a Dataset, a manifest / BDGP-table path (image files need not exist) or a DataFrame.
    features: a feature store (path or ``FeatureStore``).
    out: also write the CLI's output folder there (metrics.tsv, summary.md, ...; all or
        nothing).
    Options have the CLI's names: ``layers``, ``concat`` (False = ``--no-concat``),
    ``stages``, ``top_k``, ``view``, ``exclude``, ``folds``, ``inner_folds``, ``c_grid``,
    ``inner_models``, ``models``, ``fallback_c``, ``preprocess``, ``method``, ``level``
    (image | group | both), ``group_rule``, ``seed``.
    """
    from . import FeatureStore, _as_dataset, _progress
    dataset = _as_dataset(data, False)
    if isinstance(features, FeatureStore):
        features = features.path
    if isinstance(layers, str):
        layers = layers.split(",")
    options = {"layers": list(layers) if layers else None, "concat": concat,
               "stages": list(stages) if stages else None, "top_k": top_k, "view": view,
               "exclude": list(exclude), "folds": folds, "inner_folds": inner_folds,
               "c_grid": list(c_grid) if c_grid else None, "inner_models": inner_models,
               "models": models, "fallback_c": fallback_c, "preprocess": preprocess,
               "method": method, "level": level, "group_rule": group_rule, "seed": seed}
    result = _core.evaluate(dataset._native, _os.fspath(features), options,
                            _os.fspath(out) if out else "", threads, _progress(progress))
    return Evaluation(result)
