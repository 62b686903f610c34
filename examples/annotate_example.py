#!/usr/bin/env python3
"""The worked example of docs/PYTHON.md: train a small model, annotate a folder of images and a
NumPy array, draw a heat map with matplotlib, and work with the result as a pandas DataFrame.

    export PYTHONPATH=$PWD/build/python
    python3 examples/annotate_example.py --out ishannot-python-example

Data: a few synthetic BDGP-like images made by `ishannot synth` (the CLI built beside the
module). CI runs this script (ctest: python_example).
"""
import argparse
import os
import shutil
import subprocess

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import TwoSlopeNorm  # noqa: E402

import ishannot  # noqa: E402


def cli_binary():
    """The `ishannot` CLI: $ISHANNOT_BINARY, on PATH, or build/ishannot beside the module."""
    here = os.path.dirname(os.path.dirname(os.path.dirname(ishannot.__file__)))
    return (os.environ.get("ISHANNOT_BINARY") or shutil.which("ishannot")
            or os.path.join(here, "ishannot"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="ishannot-python-example", help="output folder")
    parser.add_argument("--images", type=int, default=24, help="synthetic images to make")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    # 1. Data: synthetic images of stage range 13-16 with a manifest (images.csv).
    syn = os.path.join(args.out, "syn")
    if not os.path.exists(os.path.join(syn, "images.csv")):
        subprocess.run([cli_binary(), "--quiet", "synth", "--out", syn, "--images",
                        str(args.images), "--stages", "13-16"], check=True)
    dataset = ishannot.read_dataset(os.path.join(syn, "images.csv"))
    print(dataset, "\n", dataset.to_frame()[["image", "gene", "stage_range", "terms"]].head())

    # 2. A model: ResNet50 res4f features at the native size pooled 4x10 (the default recipe),
    #    then per term an ensemble of logistic regressions (3 terms, 5 members: a small demo).
    model = ishannot.train(dataset, out=os.path.join(args.out, "model.h5"), top_k=3,
                           view="all", folds=0, models=5)
    print(model, "\n", model.terms("13-16")[["term", "positives", "negatives", "C"]])

    # 3. Annotate a folder of images (they have no stage range of their own: give it).
    table = model.annotate(os.path.join(syn, "images"), stage_range="13-16")
    print(table.head())

    # 4. Annotate NumPy arrays: H x W x 3 uint8 RGB, as scikit-image or napari hold them
    #    (plt.imread gives PNGs as floats in 0..1). A crop is just another array.
    image = (plt.imread(dataset.paths[0])[..., :3] * 255).round().astype(np.uint8)
    crop = image[:, 40:280]
    arrays = model.annotate([image, crop], stage_range="13-16", ids=["whole", "crop"])
    print(arrays[["image", "term", "score", "votes", "label"]])

    # 5. A heat map: where in the image the evidence for its best term lies.
    best = arrays[arrays["image"] == "whole"].sort_values("score").iloc[-1]
    heat = model.heatmap(image, best["term"], stage_range="13-16")
    fig, ax = plt.subplots(figsize=(6.4, 3))
    ax.imshow(image)
    limit = max(abs(heat).max(), 1e-12)
    shown = ax.imshow(heat, cmap="RdBu_r", alpha=0.55, norm=TwoSlopeNorm(0, -limit, limit))
    fig.colorbar(shown, ax=ax, label="evidence (log-odds per pixel)")
    ax.set_title(f"{best['term']}: score {best['score']:.2f}")
    ax.axis("off")
    heatmap_png = os.path.join(args.out, "heatmap.png")
    fig.savefig(heatmap_png, dpi=100, bbox_inches="tight")

    # 6. pandas: an image x term table of scores, and each image's terms with label 1.
    scores = table.pivot(index="image", columns="term", values="score")
    scores.to_csv(os.path.join(args.out, "scores.csv"))
    calls = table[table["label"] == 1].groupby("image")["term"].apply("; ".join)
    print(scores.round(3).head(), "\n", calls.head())
    assert len(table) == len(dataset) * len(scores.columns)
    assert heat.shape == image.shape[:2] and os.path.getsize(heatmap_png) > 0
    print(f"wrote {heatmap_png} and {os.path.join(args.out, 'scores.csv')}")


if __name__ == "__main__":
    main()
