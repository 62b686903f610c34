"""The CNN part (ishannot._nets, loaded on first use): extract on arrays and paths equals the
CLI's store bit for bit, the channel order, bad arrays, annotate on images equals the CLI's
annotations.tsv, heat maps. Images: a few synthetic ones (`ishannot synth`), read with PIL."""
import h5py
import numpy as np
import pytest
from PIL import Image

from conftest import label_column, nets_or_skip, read_tsv, run_cli

ishannot = pytest.importorskip("ishannot")


@pytest.fixture(scope="session")
def photos(tmp_path_factory):
    """10 synthetic 320x128 images of 13-16 with their manifest, and the same as RGB arrays."""
    nets_or_skip()
    d = tmp_path_factory.mktemp("photos")
    run_cli("synth", "--out", d, "--images", "10", "--stages", "13-16")
    dataset = ishannot.read_dataset(d / "images.csv")
    arrays = [np.asarray(Image.open(p).convert("RGB")) for p in dataset.paths]
    return {"dir": d, "manifest": str(d / "images.csv"), "dataset": dataset, "rgb": arrays}


def store_rows(path, layer):
    with h5py.File(path) as f:
        ids = [i.decode() if isinstance(i, bytes) else i for i in f["ids"][()]]
        return ids, f[f"features/{layer}"][()]


def test_extract_on_arrays_is_the_clis_store(photos, tmp_path):
    out = tmp_path / "cli.h5"
    run_cli("extract", "--data", photos["manifest"], "--layers", "res4f", "--pool", "2x5",
            "--input-size", "native", "--out", out)
    ids, cli = store_rows(out, "res4f")
    assert ids == photos["dataset"].ids
    api = ishannot.extract(photos["rgb"], layers="res4f", pool="2x5", input_size="native",
                           threads=1)
    assert api["res4f"].dtype == np.float32 and api["res4f"].shape == cli.shape
    assert np.array_equal(api["res4f"], cli)  # bit for bit
    by_path = ishannot.extract(photos["dataset"].paths, layers="res4f", pool="2x5",
                               input_size="native", threads=1)
    assert np.array_equal(by_path["res4f"], cli)
    generated = ishannot.extract((a for a in photos["rgb"]), layers="res4f", pool="2x5",
                                 input_size="native", threads=1)
    assert np.array_equal(generated["res4f"], cli)
    assert api.layers[0]["shape"] == "1024x2x5" and api.attributes["backbone"] == "resnet50"


def test_channel_order_is_rgb(photos, tmp_path):
    out = tmp_path / "cli.h5"
    run_cli("extract", "--data", photos["manifest"], "--layers", "res3d", "--pool", "2x2",
            "--out", out, "--batch", "4")
    _, cli = store_rows(out, "res3d")
    rgb = ishannot.extract(photos["rgb"][:4], layers="res3d", pool="2x2", batch=4, threads=1)
    bgr = ishannot.extract([a[..., ::-1] for a in photos["rgb"][:4]], layers="res3d",
                           pool="2x2", batch=4, threads=1)
    assert np.array_equal(rgb["res3d"], cli[:4])
    assert not np.allclose(bgr["res3d"], cli[:4], atol=1e-3)


def test_float16_is_the_float16_store(photos, tmp_path):
    out = tmp_path / "half.h5"
    run_cli("extract", "--data", photos["manifest"], "--layers", "res3d", "--pool", "avg",
            "--dtype", "float16", "--out", out)
    _, cli = store_rows(out, "res3d")
    api = ishannot.extract(photos["rgb"], layers="res3d", pool="avg", precision="float16",
                           threads=1)
    assert api["res3d"].dtype == np.float16 and np.array_equal(api["res3d"], cli)


def test_non_contiguous_arrays_are_copied_not_misread(photos):
    a = photos["rgb"][0]
    wide = np.zeros((a.shape[0], 2 * a.shape[1], 3), np.uint8)
    wide[:, ::2] = a
    views = [wide[:, ::2], np.asfortranarray(a), a[::-1][::-1]]
    assert not views[0].flags.c_contiguous and not views[1].flags.c_contiguous
    want = ishannot.extract([a], layers="res3d", pool="2x2", threads=1)["res3d"]
    for v in views:
        got = ishannot.extract([v], layers="res3d", pool="2x2", threads=1)["res3d"]
        assert np.array_equal(got, want)


def test_bad_arrays_are_one_line_errors(photos):
    a = photos["rgb"][0]
    cases = [
        ([a.astype(np.float32)], "dtype float32"),
        ([a[..., 0]], "shape 128 x 320"),
        ([np.dstack([a, a[..., :1]])], "shape 128 x 320 x 4"),
        ([a, a[:, :200]], "320x128"),  # native size: one size per call
        ([a, "no/such/file.png"], "no/such/file.png"),
        ([a, 3], "a path or a NumPy array"),
    ]
    for images, message in cases:
        with pytest.raises(ishannot.Error) as e:
            ishannot.extract(images, layers="res3d", pool="2x2", input_size="native")
        assert message in str(e.value) and "\n" not in str(e.value), str(e.value)
    # At a fixed input size each image is resized, as the CLI does.
    mixed = ishannot.extract([a, a[:, :200].copy()], layers="res3d", pool="2x2")
    assert mixed["res3d"].shape[0] == 2


@pytest.fixture(scope="session")
def cnn_bundle(photos, tmp_path_factory):
    """A bundle trained by the CLI with the default recipe (res4f, native size, 4x10)."""
    d = tmp_path_factory.mktemp("cnn")
    store = d / "train.h5"
    run_cli("extract", "--data", photos["manifest"], "--layers", "res4f", "--input-size",
            "native", "--pool", "4x10", "--out", store)
    run_cli("train", "--data", photos["manifest"], "--features", store, "--out",
            d / "model.h5", "--folds", "0", "--models", "3", "--top-k", "3", "--c-grid", "1",
            "--view", "all")
    return str(d / "model.h5")


def test_annotate_images_equals_the_cli(photos, cnn_bundle, tmp_path):
    run_cli("annotate", "--model", cnn_bundle, "--data", photos["manifest"], "--out",
            tmp_path / "ann", "--heatmaps", "0")
    cli = read_tsv(tmp_path / "ann" / "annotations.tsv")
    model = ishannot.Model.load(cnn_bundle)
    api = model.annotate(photos["rgb"], stage_range="13-16", ids=photos["dataset"].ids,
                         threads=1)
    assert list(api["image"]) == list(cli["image"]) and list(api["term"]) == list(cli["term"])
    assert np.array_equal(api["score"].to_numpy(), cli["score"].to_numpy())
    assert np.array_equal(api["votes"].to_numpy(), cli["votes"].to_numpy())
    assert np.array_equal(api["label"].to_numpy(), cli[label_column(cli)].to_numpy())
    from_dataset = model.annotate(photos["dataset"], threads=1)
    assert np.array_equal(from_dataset["score"].to_numpy(), cli["score"].to_numpy())
    with pytest.raises(ishannot.Error, match="has no model for stage range 4-6"):
        model.annotate(photos["rgb"], stage_range="4-6")


def test_heatmap_adds_up_to_the_decision(photos, cnn_bundle):
    model = ishannot.Model.load(cnn_bundle)
    image = photos["rgb"][0]
    scores = model.annotate([image], stage_range="13-16", threads=1)
    term = scores["term"][0]
    heat = model.heatmap(image, term, threads=1)
    assert heat.shape == image.shape[:2] and heat.dtype == np.float64
    with h5py.File(cnn_bundle) as f:
        bias = f["stages/13-16/bias"][()][0].mean()
    assert heat.sum() + bias == pytest.approx(scores["decision"][0], rel=1e-5, abs=1e-6)
    with pytest.raises(ishannot.Error, match="has no term"):
        model.heatmap(image, "no such term")
