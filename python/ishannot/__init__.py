"""ishannot: annotate Drosophila embryo in situ hybridization (ISH) images with anatomical terms.

The Python face of the ishannot C++ library (Zhang et al., KDD 2015): the same code as the
``ishannot`` command line, with NumPy arrays and pandas DataFrames in and out. Nothing is
implemented twice: every function below calls the library the CLI calls.

Import from a build of this checkout (docs/PYTHON.md)::

    export PYTHONPATH=$PWD/build/python      # then, in Python:
    import ishannot

``import ishannot`` loads only the torch-free extension; the CNN extension (libtorch) is loaded
on the first call that needs it: ``extract``, ``Model.annotate`` on images, ``Model.heatmap``.
It is built only with ``cmake -DISHANNOT_PYTHON_CNN=ON`` for now (not yet verified: docs/PYTHON.md,
"Status"); without it those calls raise ``ishannot.Error``.

Images
    A path (str or os.PathLike: decoded as the CLI decodes files) or a NumPy array
    ``H x W x 3``, dtype ``uint8``, channels in **RGB** order (as scikit-image, napari,
    matplotlib and PIL hold them; OpenCV's ``cv2.imread`` gives BGR: reverse it with
    ``img[..., ::-1]``). Any strides are accepted (the array is copied, never misread). Another
    dtype, rank or channel count raises ``ishannot.Error``.

Datasets
    ``read_dataset(path)`` (a manifest CSV, a BDGP-table folder, a folder of images) ->
    ``Dataset``; ``Dataset.to_frame()`` -> pandas DataFrame; ``Dataset.from_frame(df)``;
    ``outer_folds(dataset, stage_range, ...)`` -> ``Folds`` (evaluate's folds).

Features
    ``extract(images, layers=..., pool=..., input_size=..., precision=..., threads=...)`` ->
    ``Features`` (a dict: layer -> float32 array, one row per image); with ``out=`` it writes a
    feature store like ``ishannot extract``. ``FeatureStore(path)`` reads a store by slices:
    ``store["res4f"][100:200]``.

Models
    ``Model.load(bundle)``; ``model.annotate(images | features, stage_range=...)`` -> DataFrame
    of image x term scores, votes and labels (annotations.tsv's columns);
    ``model.heatmap(image, term)`` -> evidence map at the image's size; ``train(...)`` -> Model;
    ``model.save(path)``.

Evaluation
    ``evaluate(dataset, features, ...)`` -> ``Evaluation`` (``.metrics``: metrics.tsv's table).

Errors and progress
    Bad input raises ``ishannot.Error`` with the CLI's one-line message. Long calls take
    ``progress=``: a callable ``(stage, done, total)`` (total 0 = unknown), or ``True`` for a
    tqdm bar (``tqdm_progress()``). ``threads=0`` (default) uses every CPU this process may use,
    as the CLI's ``--threads 0``. The GIL is released while C++ works.
"""

import os as _os

from . import _core
from ._core import Error, __version__

__all__ = [
    "Error", "__version__", "Dataset", "read_dataset", "outer_folds", "Folds", "FeatureStore",
    "Features", "extract", "Model", "train", "evaluate", "Evaluation", "tqdm_progress",
    "stage_ranges",
]

_nets_module = None


def _cnn():
    """The CNN extension ``ishannot._nets`` (libtorch), imported on first use."""
    global _nets_module
    if _nets_module is None:
        import importlib
        try:
            module = importlib.import_module("ishannot._nets")
        except ImportError as e:
            raise Error("this build of ishannot has no CNN extension ishannot._nets (it needs "
                        "ISHANNOT_WITH_TORCH=ON and -DISHANNOT_PYTHON_CNN=ON, docs/PYTHON.md): "
                        + str(e)) from None
        _nets_module = module
    return _nets_module


def _frame(columns):
    import pandas
    return pandas.DataFrame(columns)


def _progress(progress):
    if progress is True:
        return tqdm_progress()
    if progress is None or progress is False:
        return None
    if not callable(progress):
        raise Error("progress: a callable (stage, done, total), True or None is needed")
    return progress


def tqdm_progress(**tqdm_args):
    """A progress callback drawing one tqdm bar per stage (``tqdm_args`` go to ``tqdm.tqdm``).

    Use it as ``progress=ishannot.tqdm_progress()`` (``progress=True`` does the same).
    """
    from tqdm.auto import tqdm
    bars = {}

    def update(stage, done, total):
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total or None, desc=stage, **tqdm_args)
        if total and bar.total != total:
            bar.total = total
        bar.update(done - bar.n)
        if total and done >= total:
            bar.close()
    return update


def stage_ranges():
    """The six BDGP stage ranges in biological order: 1-3, 4-6, 7-8, 9-10, 11-12, 13-16."""
    return list(_core.stage_range_names())


# ---------------------------------------------------------------------------------- datasets

class Dataset:
    """Images with their group annotation (gene, stage range, view, CV terms), in file order.

    Read one with ``read_dataset``; ``len(ds)``, ``ds[rows]`` (a sub-dataset: an int, a slice,
    a list of rows or a boolean mask), ``ds.to_frame()`` (columns image, path, gene,
    stage_range, stage_order, view, terms — a list per image), ``ds.stage_ranges()``,
    ``ds.skipped`` (rows the reader left out, and why).
    """

    def __init__(self, native):
        self._native = native

    @classmethod
    def read(cls, path, check_files=True):
        """Reads a manifest CSV, a BDGP-table folder or a folder of images (as ``--data``).

        ``check_files=False``: a manifest's image files need not exist (features come from a
        store, as ``evaluate`` and ``train --features`` read it).
        """
        return cls(_core.read_dataset(_os.fspath(path), check_files))

    @classmethod
    def from_frame(cls, frame, source="DataFrame"):
        """A dataset from a DataFrame (or dict of columns) with columns ``image`` (the id) and
        optionally ``path``, ``gene``, ``stage_range``, ``view`` and ``terms`` (a list of terms
        or a ';'-joined string per row). Checked as a manifest is (unique ids, stage ranges)."""
        n = len(frame["image"])

        def column(name):
            if name not in frame:
                return [""] * n
            return ["" if v is None or v != v else str(v) for v in list(frame[name])]

        terms = []
        for v in (list(frame["terms"]) if "terms" in frame else [[]] * n):
            if isinstance(v, str):
                v = [t for t in v.split(";") if t]
            elif v is None or v != v:
                v = []
            terms.append([str(t) for t in v])
        return cls(_core.make_dataset(source, column("image"), column("path"), column("gene"),
                                      column("stage_range"), column("view"), terms))

    def __len__(self):
        return len(self._native)

    def __getitem__(self, rows):
        import numpy
        n = len(self)
        if isinstance(rows, slice):
            rows = range(*rows.indices(n))
        elif isinstance(rows, (int, numpy.integer)):
            rows = [int(rows)]
        else:
            rows = numpy.asarray(rows)
            if rows.dtype == bool:
                if rows.shape != (n,):
                    raise Error(f"{self.source}: a mask of {rows.shape} for {n} images")
                rows = numpy.flatnonzero(rows)
        return Dataset(self._native.subset([int(r) for r in rows]))

    def __repr__(self):
        return f"<ishannot.Dataset {self.source!r}: {len(self)} images>"

    @property
    def source(self):
        """Where it was read from."""
        return self._native.source

    @property
    def skipped(self):
        """Rows the reader did not take: a list of (reason, count)."""
        return list(self._native.skipped())

    @property
    def paths(self):
        """The image files, in order ("" for metadata-only datasets)."""
        return list(self._native.paths())

    @property
    def ids(self):
        """The image ids, in order."""
        return list(self._native.columns()["image"])

    def stage_ranges(self):
        """The stage ranges present, in biological order."""
        return list(self._native.stage_ranges())

    def columns(self):
        """The rows as a dict of lists (image, path, gene, stage_range, stage_order, view,
        terms)."""
        return dict(self._native.columns())

    def to_frame(self):
        """The rows as a pandas DataFrame."""
        return _frame(self.columns())

    to_dataframe = to_frame


def read_dataset(path, check_files=True):
    """Reads a dataset: a manifest CSV, a BDGP-table folder or a folder of images (see
    ``Dataset.read``)."""
    return Dataset.read(path, check_files)


def _as_dataset(data, check_files=True):
    if isinstance(data, Dataset):
        return data
    if isinstance(data, (str, _os.PathLike)):
        return Dataset.read(data, check_files)
    if hasattr(data, "columns") and "image" in data:
        return Dataset.from_frame(data)
    raise Error("data: a Dataset, a path (manifest, BDGP tables, folder) or a DataFrame is "
                f"needed, got {type(data).__name__}")


class Folds:
    """One stage range's outer folds, as ``evaluate`` makes them (and ``train/finetune/baseline
    --fold F/K`` learn outside). Attributes: ``stage_range``, ``terms`` (the selected terms),
    ``images`` (ids of the problem's rows), ``rows`` (their dataset rows), ``genes``, ``fold``
    (per row, 0..folds-1), ``labels`` (rows x terms, 0/1), ``folds``."""

    def __init__(self, d):
        self.__dict__.update(d)

    def genes_in(self, f):
        """Sorted genes of fold ``f`` (its test genes)."""
        return sorted({g for g, k in zip(self.genes, self.fold) if k == f})

    def genes_outside(self, f):
        """Sorted genes outside fold ``f`` (its training genes)."""
        return sorted({g for g, k in zip(self.genes, self.fold) if k != f})

    def to_frame(self):
        """image, row, gene, fold and one 0/1 column per term."""
        columns = {"image": self.images, "row": self.rows, "gene": self.genes, "fold": self.fold}
        for t, term in enumerate(self.terms):
            columns[term] = self.labels[:, t]
        return _frame(columns)

    def __repr__(self):
        return (f"<ishannot.Folds {self.stage_range}: {len(self.images)} images, "
                f"{len(set(self.genes))} genes, {self.folds} folds, {len(self.terms)} terms>")


def outer_folds(dataset, stage_range, folds=5, seed=1234, top_k=10, view="lateral", exclude=()):
    """The outer grouped folds of one stage range (data/folds.h ``outer_folds``): the same
    folds as ``ishannot evaluate --folds K --seed S --top-k ... --view ...``."""
    d = _core.outer_folds(_as_dataset(dataset, False)._native, stage_range, folds, seed, top_k,
                          view, list(exclude))
    return Folds(d)


# ---------------------------------------------------------------------------------- features

class _LayerView:
    """``store[layer]``: one layer of a store, sliced on demand."""

    def __init__(self, store, layer):
        store.dim(layer)  # an unknown layer is an Error now
        self._store, self._layer = store, layer

    def __len__(self):
        return len(self._store)

    @property
    def shape(self):
        return (len(self._store), self._store.dim(self._layer))

    def __getitem__(self, rows):
        return self._store.read(self._layer, rows)


class FeatureStore:
    """A feature store (HDF5, ``ishannot extract`` / ``baseline``), read without loading it:
    ``store.ids``, ``store.layers`` (name, dim, shape, pooling, dtype per layer),
    ``store.attributes`` (provenance), ``len(store)``, ``store.read(layer, rows)`` or
    ``store[layer][rows]`` with rows a slice, an int or a list of rows -> float32 array
    (float16 stores are converted on read)."""

    def __init__(self, path):
        self._native = _core.FeatureStoreReader(_os.fspath(path))

    @property
    def path(self):
        return self._native.path

    @property
    def ids(self):
        return list(self._native.ids)

    @property
    def layers(self):
        return list(self._native.layers())

    @property
    def attributes(self):
        return dict(self._native.attributes())

    def __len__(self):
        return self._native.rows

    def dim(self, layer):
        return self._native.dim(layer)

    def read(self, layer, rows=slice(None)):
        """Rows of one layer: a slice (read as one block), an int or a list/array of rows."""
        import numpy
        if isinstance(rows, slice):
            start, stop, step = rows.indices(len(self))
            if step == 1:
                return self._native.read_range(layer, start, max(start, stop))
            rows = range(start, stop, step)
        if isinstance(rows, (int, numpy.integer)):
            return self._native.read_list(layer, [int(rows)])[0]
        return self._native.read_list(layer, [int(r) for r in numpy.asarray(rows).ravel()])

    def __getitem__(self, layer):
        return _LayerView(self, layer)

    def __repr__(self):
        return f"<ishannot.FeatureStore {self.path!r}: {len(self)} images, layers " + \
            ", ".join(layer["name"] for layer in self.layers) + ">"


class Features(dict):
    """``extract``'s result: a dict layer -> array (one row per image, in the order given),
    with ``images`` (each image's path, or "array N"), ``layers`` (each layer's dim, shape,
    source_shape and pooling, as a store records them) and ``attributes`` (the store's root
    attributes for these features: backbone, weights SHA-256, input size, pooling...)."""

    images = ()
    layers = ()
    attributes = {}

    def concatenated(self, order=None):
        """The layers side by side (``order``: layer names; default: extraction order)."""
        import numpy
        names = order or [layer["name"] for layer in self.layers]
        return numpy.ascontiguousarray(numpy.hstack([self[n] for n in names]), dtype="float32")


def _layers_text(layers):
    if isinstance(layers, str):
        return layers
    return ",".join(str(layer) for layer in layers)


def _images_of(images):
    """A dataset or manifest/folder path -> its image paths; a 4-D array -> its images."""
    if isinstance(images, Dataset):
        return images.paths
    if isinstance(images, (str, _os.PathLike)):
        return Dataset.read(images).paths
    if hasattr(images, "ndim") and hasattr(images, "shape"):
        if images.ndim == 4:
            return list(images)
        if images.ndim == 3:
            return [images]
    return images


def _backbone(backbone, weights):
    key = (backbone, _os.fspath(weights) if weights else "")
    cache = _backbone.cache
    if key not in cache:
        cache.clear()  # one network held at a time
        cache[key] = _cnn().load_backbone(*key)
    return cache[key]


_backbone.cache = {}


def extract(images, layers="res3d,res4f,res5c", pool="none", input_size="224x224",
            precision="float32", batch=8, threads=0, backbone="resnet50", weights="",
            out=None, resume=True, progress=None):
    """CNN features of images, as ``ishannot extract`` computes them.

    images: a list (or any iterable, a generator included: memory is bounded by ``batch``) of
        paths and/or ``H x W x 3`` uint8 RGB arrays; a 4-D ``N x H x W x 3`` array; a
        ``Dataset`` or the path of a manifest / folder.
    layers: taps, names or VGG16 paper numbers (``"res4f"``, ``["res3d", "res5c"]``, ``"17,21"``).
    pool: ``"none"`` (flatten, the paper), ``"4x4"``, ``"max:2x5"``, ``"avg"``... (``--pool``).
    input_size: ``"WxH"`` (each image resized to it) or ``"native"`` (all images one size).
    precision: ``"float32"`` or ``"float16"`` (the values a ``--dtype float16`` store holds).
    batch, threads: as ``--batch`` and ``--threads``; the same batch and thread count give the
        CLI's features bit for bit.
    backbone, weights: ``"resnet50"`` (default weights from scripts/setup.sh) or ``"vgg16"``
        with a weight file.
    out: write a feature store there instead (images must then be files: paths, a Dataset or
        a manifest), resumable like the CLI's; returns a ``FeatureStore``.

    Returns ``Features``: a dict layer -> float32 (or float16) array, one row per image.
    Unreadable files and bad arrays raise ``ishannot.Error`` before any result is returned.
    """
    net = _backbone(backbone, weights)
    layers = _layers_text(layers)
    progress = _progress(progress)
    if out is not None:
        if isinstance(images, (Dataset, str, _os.PathLike)):
            dataset = _as_dataset(images)
        else:
            paths = [_os.fspath(p) for p in images]
            if not all(isinstance(p, str) for p in paths):
                raise Error("extract(out=...): images must be files (paths, a Dataset, a manifest)")
            dataset = Dataset.from_frame({
                "image": [_os.path.splitext(_os.path.basename(p))[0] for p in paths],
                "path": paths}, source="extract(images)")
        _cnn().extract_store(net, dataset._native, _os.fspath(out), layers, input_size, pool,
                              batch, precision, resume, threads, progress)
        return FeatureStore(out)
    r = _cnn().extract(net, _images_of(images), layers, input_size, pool, batch, precision,
                        threads, progress)
    features = Features(r["features"])
    features.images = list(r["images"])
    features.layers = list(r["layers"])
    features.attributes = dict(r["attributes"])
    return features


from ._model import Model, train  # noqa: E402
from ._evaluate import Evaluation, evaluate  # noqa: E402
