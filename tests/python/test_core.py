"""The torch-free part of `import ishannot`: datasets, folds, stores, evaluate, train, annotate
on features — each checked against the CLI (files) or an independent reader (h5py, pandas)."""
import os
import subprocess
import sys

import h5py
import numpy as np
import pandas
import pytest

from conftest import cli_error, label_column, read_tsv, run_cli

ishannot = pytest.importorskip("ishannot")


def test_import_does_not_load_libtorch():
    code = ("import sys, ishannot; maps = open('/proc/self/maps').read(); "
            "print('torch' in sys.modules, 'libtorch' in maps, 'ishannot._nets' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "False", "False"]


def test_errors_carry_the_cli_message(tmp_path):
    missing = tmp_path / "missing.csv"
    with pytest.raises(ishannot.Error) as e:
        ishannot.read_dataset(missing)
    assert str(e.value) == cli_error("dataset", "--data", missing)
    assert "\n" not in str(e.value)


def test_dataset_frame_matches_the_manifest(tiny):
    ds = ishannot.read_dataset(tiny["manifest"], check_files=False)
    frame = ds.to_frame()
    raw = pandas.read_csv(tiny["manifest"], keep_default_na=False)
    assert len(ds) == len(raw) == 72
    assert list(frame["image"]) == [os.path.splitext(p)[0] for p in raw["image"]]
    assert list(frame["gene"]) == list(raw["gene"])
    assert list(frame["stage_range"]) == list(raw["stage_range"])
    assert [sorted(t) for t in frame["terms"]] == [sorted(filter(None, t.split(";")))
                                                   for t in raw["terms"]]
    assert ds.stage_ranges() == ["11-12", "13-16"]
    sub = ds[frame["stage_range"].to_numpy() == "13-16"]
    assert len(sub) == 36 and sub.stage_ranges() == ["13-16"]
    again = ishannot.Dataset.from_frame(frame)
    assert again.to_frame().equals(frame)


def test_dataset_from_frame_checks_rows():
    with pytest.raises(ishannot.Error, match="duplicate image id"):
        ishannot.Dataset.from_frame({"image": ["a", "a"]})
    with pytest.raises(ishannot.Error, match="stage"):
        ishannot.Dataset.from_frame({"image": ["a"], "stage_range": ["99-100"]})


def test_outer_folds_are_evaluates(tiny, tmp_path):
    run_cli("evaluate", "--data", tiny["manifest"], "--features", tiny["store"], "--out",
            tmp_path / "ev", "--folds", "3", "--models", "3", "--c-grid", "1", "--stages",
            "13-16")
    predictions = read_tsv(tmp_path / "ev" / "predictions.tsv")
    cli_fold = dict(zip(predictions["image"] if "image" in predictions else predictions["id"],
                        predictions["fold"]))
    folds = ishannot.outer_folds(tiny["manifest"], "13-16", folds=3)
    assert folds.folds == 3 and len(folds.images) == 36
    assert {i: int(f) for i, f in zip(folds.images, folds.fold)} == cli_fold
    for f in range(3):
        assert not set(folds.genes_in(f)) & set(folds.genes_outside(f))
    assert folds.to_frame().shape == (36, 4 + len(folds.terms))


def test_feature_store_reads_slices(tiny, tmp_path):
    store = ishannot.FeatureStore(tiny["store"])
    with h5py.File(tiny["store"]) as f:
        whole = f["features/feat"][()]
    assert len(store) == 72 and store.ids == tiny["ids"]
    assert store.layers[0]["name"] == "feat" and store.dim("feat") == 12
    assert np.array_equal(store["feat"][10:20], whole[10:20])
    assert np.array_equal(store.read("feat", [5, 1, 70]), whole[[5, 1, 70]])
    assert np.array_equal(store["feat"][-1], whole[-1])
    assert np.array_equal(store["feat"][::7], whole[::7])
    assert store["feat"].shape == (72, 12)
    half = tmp_path / "half.h5"
    with h5py.File(half, "w") as f:
        f.attrs["format_version"] = 1
        f["ids"] = tiny["ids"]
        f.create_dataset("features/feat", data=whole.astype(np.float16))
    assert np.array_equal(ishannot.FeatureStore(half)["feat"][:],
                          whole.astype(np.float16).astype(np.float32))
    with pytest.raises(ishannot.Error, match="out of range"):
        store.read("feat", [72])
    with pytest.raises(ishannot.Error):
        store["nope"]


def test_evaluate_equals_the_cli(tiny, tmp_path):
    args = dict(folds=3, models=3, c_grid=[0.1, 1], inner_folds=2)
    run_cli("evaluate", "--data", tiny["manifest"], "--features", tiny["store"], "--out",
            tmp_path / "cli", "--folds", "3", "--models", "3", "--c-grid", "0.1,1",
            "--inner-folds", "2")
    calls = []
    result = ishannot.evaluate(tiny["manifest"], tiny["store"], out=tmp_path / "api",
                               progress=lambda *a: calls.append(a), **args)
    cli = read_tsv(tmp_path / "cli" / "metrics.tsv")
    keys = ["method", "layer", "stage_range", "stage_order", "term", "fold", "metric"]
    merged = cli.merge(result.metrics, on=keys, how="outer", suffixes=("_cli", "_api"),
                       indicator=True)
    assert (merged["_merge"] == "both").all() and len(merged) == len(cli) > 0
    same = (merged["value_cli"] == merged["value_api"]) | (
        merged["value_cli"].isna() & merged["value_api"].isna())
    assert same.all(), merged[~same]
    assert read_tsv(tmp_path / "api" / "metrics.tsv").equals(cli)
    assert calls and all(isinstance(c[0], str) for c in calls)
    assert result.stage_ranges == ["11-12", "13-16"]
    assert "auc" in set(result.summary["metric"])


def test_train_writes_the_clis_bundle(tiny, tiny_bundle, tmp_path):
    model = ishannot.train(tiny["manifest"], features=tiny["store"], out=tmp_path / "m.h5",
                           folds=3, models=5, top_k=3)
    assert model.stage_ranges == ["11-12", "13-16"]
    with h5py.File(tiny_bundle) as a, h5py.File(model.path) as b:
        for stage in ["11-12", "13-16"]:
            for name in ["weights", "bias", "C", "cv_auc"]:
                assert np.array_equal(a[f"stages/{stage}/{name}"][()],
                                      b[f"stages/{stage}/{name}"][()], equal_nan=True), name
    terms = model.terms("13-16")
    assert list(terms["term"]) == [t.decode() if isinstance(t, bytes) else t for t in
                                   h5py.File(tiny_bundle)["stages/13-16/terms"][()]]
    copy = model.save(tmp_path / "copy.h5")
    assert copy.stage_ranges == model.stage_ranges


def test_annotate_features_equals_the_cli(tiny, tiny_bundle, tmp_path):
    run_cli("annotate", "--model", tiny_bundle, "--data", tiny["manifest"], "--features",
            tiny["store"], "--out", tmp_path / "ann")
    cli = read_tsv(tmp_path / "ann" / "annotations.tsv")
    model = ishannot.Model.load(tiny_bundle)
    dataset = ishannot.read_dataset(tiny["manifest"], check_files=False)
    api = model.annotate(features=tiny["store"], images=dataset)
    assert list(api["image"]) == list(cli["image"]) and list(api["term"]) == list(cli["term"])
    assert np.array_equal(api["score"].to_numpy(), cli["score"].to_numpy())
    assert np.array_equal(api["votes"].to_numpy(), cli["votes"].to_numpy())
    assert np.array_equal(api["label"].to_numpy(), cli[label_column(cli)].to_numpy())
    assert list(api["stage_order"]) == list(cli["stage_order"])
    # The same rows as an array, one stage range: batches of other sizes than the CLI's (its
    # batches straddle the two stage ranges), so equal up to the float rounding of the product.
    rows = [i for i, s in enumerate(dataset.to_frame()["stage_range"]) if s == "13-16"]
    array = model.annotate(features=tiny["features"][rows], stage_range="13-16",
                           ids=[tiny["ids"][r] for r in rows])
    part = cli[cli["stage_range"] == "13-16"]
    assert list(array["image"]) == list(part["image"])
    assert np.allclose(array["score"].to_numpy(), part["score"].to_numpy(), rtol=1e-6, atol=0)
    assert np.array_equal(array["votes"].to_numpy(), part["votes"].to_numpy())


def test_annotate_refuses_bad_input_before_work(tiny, tiny_bundle, tmp_path):
    model = ishannot.Model.load(tiny_bundle)
    with pytest.raises(ishannot.Error, match="has no model for stage range 4-6"):
        model.annotate(features=tiny["features"][:3], stage_range="4-6")
    with pytest.raises(ishannot.Error, match="values per image"):
        model.annotate(features=tiny["features"][:3, :5], stage_range="13-16")
    with pytest.raises(ishannot.Error, match="give stage_range"):
        model.annotate(features=tiny["features"][:3])
    bad = tiny["features"][:3].copy()
    bad[1, 2] = np.nan
    with pytest.raises(ishannot.Error, match="NaN"):
        model.annotate(features=bad, stage_range="13-16")
    with pytest.raises(ishannot.Error, match="not a model bundle|format"):
        ishannot.Model.load(tiny["store"])
    assert os.listdir(tmp_path) == []


def test_progress_callback_errors_propagate(tiny):
    def fail(stage, done, total):
        raise KeyError("stop")
    with pytest.raises(KeyError):
        ishannot.evaluate(tiny["manifest"], tiny["store"], folds=3, models=3, c_grid=[1],
                          progress=fail)


def test_the_api_reference_is_in_docstrings():
    assert "RGB" in ishannot.__doc__ and "PYTHONPATH" in ishannot.__doc__
    for name in ishannot.__all__:
        obj = getattr(ishannot, name)
        if callable(obj):
            assert obj.__doc__, name
    for name in ["annotate", "heatmap", "load", "save", "terms"]:
        assert getattr(ishannot.Model, name).__doc__, name
