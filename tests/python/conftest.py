"""Shared fixtures of the Python API tests: the CLI built beside the module, tiny data.

The tests compare the module with the command line (an independent path through files) and
with h5py / pandas / PIL readers; they skip, with a message, only where the module was not built.
"""
import os
import subprocess

import numpy as np
import pytest

ishannot = pytest.importorskip(
    "ishannot", reason="the Python module was not built (ISHANNOT_PYTHON=OFF or no pybind11-dev; "
    "PYTHONPATH must name build/python)")


def cli_binary():
    binary = os.environ.get("ISHANNOT_BINARY")
    if binary:
        return binary
    # build/python/ishannot/__init__.py -> build/ishannot
    return os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(ishannot.__file__))),
                        "ishannot")


def run_cli(*args, threads=1):
    """Runs `ishannot --quiet --threads N ARGS...`; returns the CompletedProcess (check=True)."""
    cmd = [cli_binary(), "--quiet", "--threads", str(threads)] + [str(a) for a in args]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr}")
    return r


def cli_error(*args):
    """The one-line message of a failing CLI command (without 'ishannot: error: ')."""
    r = subprocess.run([cli_binary(), "--quiet"] + [str(a) for a in args], capture_output=True,
                       text=True)
    assert r.returncode == 1, r.stderr
    line = r.stderr.strip().splitlines()[-1]
    prefix = "ishannot: error: "
    assert line.startswith(prefix), line
    return line[len(prefix):]


TERMS = ["term_a", "term_b", "term_c", "term_d"]


def gene_terms(g):
    """Terms of gene g (as tests/support/cli_util.h's small manifest)."""
    on = [g % 2 == 0, g % 3 == 0, g % 3 == 1, g % 4 == 1]
    return [t for t, x in zip(TERMS, on) if x]


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    """A manifest (12 genes x 3 images x stage ranges 11-12 and 13-16, no image files) and a
    feature store written with h5py (layer "feat", 12 values: a pattern per term plus noise)."""
    import h5py
    d = tmp_path_factory.mktemp("tiny")
    rng = np.random.default_rng(7)
    patterns = {t: 2.0 * rng.normal(size=12) for t in TERMS}
    lines, ids, rows = ["image,gene,stage_range,terms"], [], []
    for stage in ["11-12", "13-16"]:
        for g in range(12):
            for i in range(3):
                image = f"s{stage.replace('-', '_')}_g{g}_{i}"
                terms = gene_terms(g)
                lines.append(f"{image}.png,gene{g},{stage},{';'.join(terms)}")
                x = rng.normal(size=12) + sum((patterns[t] for t in terms), np.zeros(12))
                ids.append(image)
                rows.append(x)
    manifest = d / "images.csv"
    manifest.write_text("\n".join(lines) + "\n")
    store = d / "feat.h5"
    with h5py.File(store, "w") as f:
        f.attrs["format_version"] = 1
        f["ids"] = ids
        f.create_dataset("features/feat", data=np.array(rows, dtype=np.float32))
    return {"dir": d, "manifest": str(manifest), "store": str(store), "ids": ids,
            "features": np.array(rows, dtype=np.float32)}


@pytest.fixture(scope="session")
def tiny_bundle(tiny):
    """A bundle trained by the CLI on the tiny store (3 CV folds, 5 members)."""
    out = tiny["dir"] / "cli_model.h5"
    run_cli("train", "--data", tiny["manifest"], "--features", tiny["store"], "--out", out,
            "--folds", "3", "--models", "5", "--top-k", "3")
    return str(out)


def read_tsv(path):
    import pandas
    return pandas.read_csv(path, sep="\t", keep_default_na=False, float_precision="round_trip")


def label_column(frame):
    """annotations.tsv's label column, by name (it may be renamed predicted / call)."""
    for name in ("label", "predicted", "call"):
        if name in frame.columns:
            return name
    raise AssertionError(f"no label column in {list(frame.columns)}")


def nets_or_skip():
    """The CNN extension and the ResNet50 weights, or a skip saying which is missing."""
    try:
        ishannot._cnn()
    except ishannot.Error as e:
        pytest.skip(str(e))
    home = os.environ.get("ISHANNOT_HOME", os.path.expanduser("~/.cache/ishannot"))
    if not os.path.isdir(os.path.join(home, "models")):
        pytest.skip(f"no ResNet50 weights in {home}/models (scripts/setup.sh fetches them)")


