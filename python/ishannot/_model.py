"""Model bundles: load, annotate (features or images), heat maps, train, save."""

import os as _os
import shutil as _shutil

from . import _core
from ._core import Error


def _ishannot():
    import ishannot
    return ishannot


class Model:
    """A model bundle written by ``ishannot train`` or ``ishannot.train``: per stage range and
    term, an under-sampled l2 logistic-regression ensemble, and the recipe of the features it
    needs (backbone, weights SHA-256, input size, layers, pooling).

    ``Model.load(path)``; ``model.stage_ranges``; ``model.terms(stage_range)`` (the terms with
    their training counts and cross-validated quality); ``model.recipe``;
    ``model.annotate(...)``; ``model.heatmap(...)``; ``model.save(path)``.
    """

    def __init__(self, native, weights=""):
        self._native = native
        self._weights = weights
        self._scorers = {}
        self._extractor = None

    @classmethod
    def load(cls, path, weights=""):
        """Reads a bundle (metadata only; each stage range's weights are loaded on first use).
        ``weights``: the recipe's weight file at a new place (its SHA-256 is still checked)."""
        return cls(_core.ModelBundle(_os.fspath(path)), _os.fspath(weights) if weights else "")

    @property
    def path(self):
        return self._native.path

    @property
    def stage_ranges(self):
        """Stage ranges with models, in biological order."""
        return list(self._native.stage_ranges())

    @property
    def attributes(self):
        """Root attributes: provenance and training configuration (method, seed, models...)."""
        return dict(self._native.attributes)

    @property
    def members(self):
        """Ensemble size M (label 1 needs ``vote_threshold`` votes of M)."""
        return self._native.models

    @property
    def vote_threshold(self):
        return self._native.vote_threshold

    @property
    def recipe(self):
        """How the features must be made: ``{"attributes": {...}, "layers": [...]}``."""
        return {"attributes": dict(self._native.recipe_attributes()),
                "layers": list(self._native.recipe_layers())}

    def terms(self, stage_range):
        """The terms of one stage range as a DataFrame: term, C, positives, negatives,
        positive_genes, cv_auc, cv_accuracy, cv_sensitivity, cv_specificity, cv_folds."""
        return _ishannot()._frame(dict(self._native.terms(stage_range)))

    def __repr__(self):
        return f"<ishannot.Model {self.path!r}: stage ranges {', '.join(self.stage_ranges)}>"

    def save(self, path):
        """Copies the bundle to ``path`` (written as PATH.partial, then renamed)."""
        path = _os.fspath(path)
        if _os.path.exists(path) and _os.path.samefile(path, self.path):
            return self
        if _os.path.isdir(path):
            raise Error(f"{path}: is a folder (give the bundle's file name)")
        _shutil.copyfile(self.path, path + ".partial")
        _os.replace(path + ".partial", path)
        return Model.load(path, self._weights)

    # ------------------------------------------------------------------------------ internals

    def _scorer(self, stage_range):
        stage = _core.normalise_stage_range(stage_range)
        if stage not in self._scorers:
            if len(self._scorers) >= 2:  # at most two stage ranges' weights held
                self._scorers.pop(next(iter(self._scorers)))
            self._scorers[stage] = _core.StageScorer(self._native, stage)
        return self._scorers[stage]

    def _recipe_extractor(self):
        if self._extractor is None:
            nets = _ishannot()._cnn()
            self._extractor = nets.RecipeExtractor(self.path, self._weights)
        return self._extractor

    def _default_stage(self, stage_range, what):
        if stage_range:
            return _core.normalise_stage_range(stage_range)
        if len(self.stage_ranges) == 1:
            return self.stage_ranges[0]
        raise Error(f"{what}: give stage_range= (the bundle {self.path} has "
                    f"{', '.join(self.stage_ranges)})")

    def _check_recipe(self, attributes, layers, source):
        difference = self._native.recipe_difference(dict(attributes), list(layers))
        if difference:
            raise Error(f"{source}: features made differently from those of the bundle "
                        f"{self.path}: {difference}")

    # ------------------------------------------------------------------------------ annotate

    def annotate(self, images=None, features=None, stage_range=None, ids=None, batch=8,
                 threads=0, progress=None):
        """Scores images for every term of their stage range, as ``ishannot annotate`` does.

        Give ``images`` (paths and/or ``H x W x 3`` uint8 RGB arrays, any iterable — a
        generator keeps memory bounded by ``batch`` —, a 4-D array, a ``Dataset``, or a folder
        / manifest path): features are computed with the bundle's recipe (the CNN extension).
        Or give ``features``: a ``FeatureStore`` / store path made with the recipe (its rows,
        or those of the ``images`` Dataset, by id), ``extract``'s result, or an array
        ``images x values`` (the recipe's layers concatenated; the caller vouches for it).

        stage_range: for images whose data give none (default: the bundle's only one).
        ids: names of the images in the result (default: paths, or "array N").

        Returns a pandas DataFrame with annotations.tsv's columns — image, path, gene,
        stage_range, stage_order, term, score (mean member probability), votes (members with
        a positive decision), members, label (votes >= the vote threshold) — and decision
        (the members' mean decision value, log-odds): one row per image x term, images in
        the CLI's order (by the bundle's stage ranges, then as given). The same batch and
        thread count as the CLI give its scores exactly.
        """
        progress = _ishannot()._progress(progress)
        if features is not None:
            items, rows = self._feature_rows(features, images, stage_range, ids)
            return self._score_rows(items, rows, batch, progress)
        if images is None:
            raise Error("annotate: give images or features")
        items = self._image_items(images, stage_range, ids)
        return self._score_images(items, batch, threads, progress)

    def _image_items(self, images, stage_range, ids):
        """(id, path, gene, stage, image) per image, ordered as the CLI orders them."""
        ish = _ishannot()
        if isinstance(images, (str, _os.PathLike)):
            images = ish.Dataset.read(images)
        if isinstance(images, ish.Dataset):
            cols = images.columns()
            stage = _core.normalise_stage_range(stage_range) if stage_range else ""
            items = [(i, p, g, s or stage, p) for i, p, g, s in
                     zip(cols["image"], cols["path"], cols["gene"], cols["stage_range"])]
            return self._ordered(items, images.source)
        stage = self._default_stage(stage_range, "annotate")
        self._scorer(stage)  # a stage range the bundle lacks: an Error before any work
        images = ish._images_of(images)

        def generate():
            for k, image in enumerate(images):
                path = _os.fspath(image) if isinstance(image, (str, _os.PathLike)) else ""
                name = ids[k] if ids is not None else (path or f"array {k}")
                yield (name, path, "", stage, image)
        return generate()

    def _ordered(self, items, source):
        missing = [it for it in items if not it[3]]
        if missing:
            raise Error(f"{source}: {len(missing)} images have no stage range (first: "
                        f"{missing[0][0]}): give stage_range= (the bundle has "
                        f"{', '.join(self.stage_ranges)})")
        order = {s: k for k, s in enumerate(self.stage_ranges)}
        for it in items:
            if it[3] not in order:
                raise Error(f"{source}: images of stage range {it[3]} (first: {it[0]}), which "
                            f"{self.path} has no model for (it has "
                            f"{', '.join(self.stage_ranges)})")
        return sorted(items, key=lambda it: order[it[3]])  # stable: input order within

    def _score_images(self, items, batch, threads, progress):
        extractor = self._recipe_extractor()
        table = _Table()
        done = 0
        total = len(items) if hasattr(items, "__len__") else 0
        chunk = []
        for item in items:
            chunk.append(item)
            if len(chunk) == batch:
                rows, _ = extractor.features([it[4] for it in chunk], threads)
                self._score_chunk(chunk, rows, table)
                done += len(chunk)
                chunk = []
                if progress:
                    progress("annotate", done, total)
        if chunk:
            rows, _ = extractor.features([it[4] for it in chunk], threads)
            self._score_chunk(chunk, rows, table)
            done += len(chunk)
            if progress:
                progress("annotate", done, total)
        if done == 0:
            raise Error("annotate: no image given")
        return table.frame()

    def _score_chunk(self, chunk, rows, table):
        """A batch's rows scored by the models of each image's stage range (consecutive runs,
        as annotate does)."""
        start = 0
        while start < len(chunk):
            stop = start
            while stop < len(chunk) and chunk[stop][3] == chunk[start][3]:
                stop += 1
            scorer = self._scorer(chunk[start][3])
            table.add(chunk[start:stop], scorer.terms(), scorer.score(rows[start:stop]),
                      self.members)
            start = stop

    def _feature_rows(self, features, images, stage_range, ids):
        ish = _ishannot()
        if isinstance(features, (str, _os.PathLike)):
            features = ish.FeatureStore(features)
        if isinstance(features, ish.FeatureStore):
            self._check_recipe(features.attributes, features.layers, features.path)
            names = [layer["name"] for layer in self.recipe["layers"]]
            store_ids = features.ids
            if isinstance(images, (str, _os.PathLike)):
                images = ish.Dataset.read(images, check_files=False)
            if isinstance(images, ish.Dataset):
                cols = images.columns()
                stage = _core.normalise_stage_range(stage_range) if stage_range else ""
                items = self._ordered([(i, p, g, s or stage, None) for i, p, g, s in zip(
                    cols["image"], cols["path"], cols["gene"], cols["stage_range"])],
                    images.source)
            else:
                stage = self._default_stage(stage_range, "annotate")
                items = [(i, "", "", stage, None) for i in store_ids]
            where = {i: r for r, i in enumerate(store_ids)}
            absent = [it[0] for it in items if it[0] not in where]
            if absent:
                raise Error(f"{features.path}: no features for {len(absent)} images (first: "
                            f"{absent[0]})")
            rows = [where[it[0]] for it in items]
            return items, _StoreRows(features, names, rows)
        import numpy as _np
        if isinstance(features, ish.Features):
            self._check_recipe(features.attributes, features.layers, "extract()")
            names = [layer["name"] for layer in self.recipe["layers"]]
            matrix = features.concatenated(names)
            names_of = list(features.images)
        else:
            matrix = _np.asarray(features)
            if matrix.ndim != 2:
                raise Error(f"features: a 2-D array (images x values) is needed, got "
                            f"{matrix.ndim}-D")
            names_of = [f"row {k}" for k in range(matrix.shape[0])]
        stage = self._default_stage(stage_range, "annotate")
        if ids is not None:
            if len(ids) != matrix.shape[0]:
                raise Error(f"ids: {len(ids)} names for {matrix.shape[0]} feature rows")
            names_of = list(ids)
        items = [(n, n if _os.path.sep in n else "", "", stage, None) for n in names_of]
        return items, matrix

    def _score_rows(self, items, rows, batch, progress):
        for stage in {it[3] for it in items}:
            self._scorer(stage)  # every stage range checked before any work
        table = _Table()
        for start in range(0, len(items), batch):
            chunk = items[start:start + batch]
            self._score_chunk(chunk, rows[start:start + len(chunk)], table)
            if progress:
                progress("annotate", start + len(chunk), len(items))
        if not items:
            raise Error("annotate: no image given")
        return table.frame()

    # ------------------------------------------------------------------------------ heat maps

    def heatmap(self, image, term, stage_range=None, threads=0):
        """Where in the image the evidence for ``term`` lies: an ``H x W`` float64 array at the
        image's own size, in decision units (log-odds) per pixel: each grid cell's
        contribution to the ensemble's mean decision spread over its pixels (positive =
        evidence for the term). Its sum plus the mean bias is the mean decision. Needs
        spatial features (a pooled grid or a flattened map): docs/ANNOTATE.md."""
        stage = self._default_stage(stage_range, "heatmap")
        scorer = self._scorer(stage)
        if term not in scorer.terms():
            raise Error(f"{self.path}: has no term '{term}' in stage range {stage} (it has "
                        f"{', '.join(scorer.terms())})")
        note = self._native.heatmap_note()
        if note:
            raise Error(f"{self.path}: no heat maps: {note}")
        rows, sizes = self._recipe_extractor().features([image], threads)
        width, height = sizes[0]
        return scorer.heatmap(rows, term, width, height)


class _StoreRows:
    """A store's rows for a list of images, read batch by batch (the recipe's layers)."""

    def __init__(self, store, layers, rows):
        self.store, self.layers, self.rows = store, layers, rows

    def __getitem__(self, part):
        import numpy as _np
        wanted = self.rows[part]
        return _np.hstack([self.store.read(layer, wanted) for layer in self.layers])


class _Table:
    """annotations.tsv's columns, accumulated batch by batch."""

    def __init__(self):
        self.parts = []

    def add(self, items, terms, scores, members):
        import numpy as _np
        n, t = len(items), len(terms)
        self.parts.append({
            "image": _np.repeat(_np.array([it[0] for it in items], dtype=object), t),
            "path": _np.repeat(_np.array([it[1] for it in items], dtype=object), t),
            "gene": _np.repeat(_np.array([it[2] for it in items], dtype=object), t),
            "stage_range": _np.repeat(_np.array([it[3] for it in items], dtype=object), t),
            "term": _np.tile(_np.array(terms, dtype=object), n),
            "score": scores["score"].reshape(-1),
            "votes": scores["votes"].reshape(-1),
            "label": scores["label"].reshape(-1),
            "decision": scores["decision"].reshape(-1),
            "members": _np.full(n * t, members),
        })

    def frame(self):
        import numpy as _np
        import pandas
        cols = {}
        for key in ("image", "path", "gene", "stage_range", "term", "score", "votes",
                    "members", "label", "decision"):
            cols[key] = _np.concatenate([p[key] for p in self.parts]) if self.parts else []
        frame = pandas.DataFrame(cols)
        order = {s: k + 1 for k, s in enumerate(_ishannot().stage_ranges())}
        frame.insert(4, "stage_order", frame["stage_range"].map(order).astype("int64"))
        return frame


def train(data, features=None, out="model.h5", layers=None, stages=None, top_k=10,
          view="lateral", exclude=(), terms=None, min_genes=0, folds=5, fold=None,
          train_genes=None, c_grid=None, inner_folds=3, inner_models=3, models=11,
          fallback_c=1.0, preprocess="l2", weights_dtype="float32", method="TL", seed=1234,
          resume=True, threads=0, progress=None):
    """Trains the annotation models and writes a bundle to ``out``, as ``ishannot train``;
    returns the ``Model``.

    data: a Dataset, a manifest / BDGP-table path or a DataFrame (``Dataset.from_frame``).
    features: a feature store (path or ``FeatureStore``); None computes the default recipe's
        (ResNet50 res4f at the images' native size, pooled 4x10) into OUT.features.h5 first.
    Options have the CLI's names: ``layers``, ``stages``, ``top_k``, ``view``, ``exclude``,
    ``terms`` (train these instead of the top-k), ``min_genes``, ``folds`` (CV folds for the
    terms' quality; 0 = none), ``fold="F/K"`` or ``train_genes=[...]`` (what it may learn
    from), ``c_grid``, ``inner_folds``, ``inner_models``, ``models`` (M, odd), ``fallback_c``,
    ``preprocess`` (l2 | none | standardise), ``weights_dtype``, ``method``, ``seed``,
    ``resume`` (continue OUT.partial of the same configuration).
    """
    ish = _ishannot()
    out = _os.fspath(out)
    store = features
    if store is None:
        dataset = ish._as_dataset(data, True)
        store = out + ".features.h5"
        if not (resume and _os.path.exists(store)):
            ish.extract(dataset, layers="res4f", input_size="native", pool="4x10", out=store,
                        resume=resume, threads=threads, progress=progress)
    else:
        dataset = ish._as_dataset(data, False)
    if isinstance(store, ish.FeatureStore):
        store = store.path
    options = {"layers": list(layers) if layers and not isinstance(layers, str) else
               (layers.split(",") if layers else None),
               "stages": list(stages) if stages else None, "top_k": top_k, "view": view,
               "exclude": list(exclude), "terms": list(terms) if terms else None,
               "min_genes": min_genes, "folds": folds, "fold": fold,
               "train_genes": list(train_genes) if train_genes else None,
               "c_grid": list(c_grid) if c_grid else None, "inner_folds": inner_folds,
               "inner_models": inner_models, "models": models, "fallback_c": fallback_c,
               "preprocess": preprocess, "weights_dtype": weights_dtype, "method": method,
               "seed": seed, "resume": resume,
               "provenance": {"training_data": dataset.source}}
    _core.train(dataset._native, _os.fspath(store), out, options, threads,
                ish._progress(progress))
    if features is None:
        _os.remove(store)
    return Model.load(out)
