#!/usr/bin/env python3
"""Where a model bundle's evidence lies, measured against synth --masks, written independently of
the C++ code (numpy + h5py on the bundle and the feature store).

For every image of the store whose gene the bundle did not train on, and every term that is
planted (masks.csv: painted = 1), true and predicted (votes >= vote_threshold), the evidence map
is the members' mean weight times the preprocessed features, summed over channels per grid cell;
each cell's value is spread evenly over its pixels. Printed: how many maps, the mean share of the
positive evidence inside the term's mask, the mean share of the image the mask covers (what a map
that ignores place would put inside), and the share of maps with most of their evidence inside;
then the same at the map's own resolution: the share of the positive cell evidence in the cells
the mask touches, and the share of cells the mask touches.

Usage: annotate_localisation.py BUNDLE.h5 FEATURES.h5 SYNTH_DIR [--stage 13-16]
Needs Debian's python3-h5py, python3-numpy and python3-opencv (/usr/bin/python3)."""
import argparse
import csv
import os

import cv2
import h5py
import numpy as np


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bundle")
    ap.add_argument("features")
    ap.add_argument("synth")
    ap.add_argument("--stage", default=None, help="one stage range (default: all)")
    ap.add_argument("--by-term", action="store_true", help="also one line per stage and term")
    args = ap.parse_args()
    manifest = {}
    with open(os.path.join(args.synth, "images.csv")) as f:
        for row in csv.DictReader(f):
            manifest[os.path.splitext(os.path.basename(row["image"]))[0]] = row
    masks = {}
    with open(os.path.join(args.synth, "masks.csv")) as f:
        for row in csv.DictReader(f):
            if row["painted"] == "1":
                masks[(row["image"], row["term"])] = os.path.join(args.synth, row["mask"])
    b = h5py.File(args.bundle, "r")
    s = h5py.File(args.features, "r")
    m = int(b.attrs["models"])
    threshold = int(b.attrs["vote_threshold"])
    prep = text(b.attrs["preprocessing"])
    layers = [text(x) for x in b["recipe/layers"]]
    shapes = [text(x) for x in b["recipe/layer_shapes"]]
    pooling = text(b["recipe"].attrs["pooling"])
    grids = []
    for shape in shapes:
        c, h, w = (int(v) for v in shape.split("x"))
        if pooling != "none":
            h, w = (int(v) for v in pooling.split(":")[-1].split("x"))
        grids.append((c, h, w))
    row_of = {text(i): r for r, i in enumerate(s["ids"])}
    inside_sum = area_sum = 0.0
    maps = majority = 0
    cell_share_sum = cell_area_sum = 0.0
    per_term = {}
    for stage in b["stages"]:
        if args.stage and stage != args.stage:
            continue
        g = b["stages"][stage]
        terms = [text(t) for t in g["terms"]]
        genes = set(text(x) for x in g["genes"])
        weights = g["weights"][:].astype(np.float64)
        bias = g["bias"][:]
        mean_w = weights.reshape(len(terms), m, -1).mean(axis=1)
        for image, row in manifest.items():
            if row["stage_range"] != stage or row["gene"] in genes or image not in row_of:
                continue
            x = np.concatenate([s["features"][l][row_of[image]].astype(np.float64) for l in layers])
            if prep == "l2":
                n = np.linalg.norm(x)
                x = x / n if n > 0 else x
            elif prep == "standardise":
                x = (x - g["mean"][:]) * g["scale"][:]
            decisions = weights @ x + bias.reshape(-1)
            votes = (decisions.reshape(len(terms), m) > 0).sum(axis=1)
            truth = set(row["terms"].split(";")) if row["terms"] else set()
            for t, term in enumerate(terms):
                key = (image, term)
                if votes[t] < threshold or term not in truth or key not in masks:
                    continue
                mask = cv2.imread(masks[key], cv2.IMREAD_GRAYSCALE) > 0
                height, width = mask.shape
                density = np.zeros((height, width))
                contrib = mean_w[t] * x
                offset = 0
                cell_in = cell_all = 0.0
                touched = cells_n = 0
                for (c, h, w) in grids:
                    cells = contrib[offset:offset + c * h * w].reshape(c, h, w).sum(axis=0)
                    offset += c * h * w
                    rows = (np.arange(height) * h) // height
                    cols = (np.arange(width) * w) // width
                    counts = np.zeros((h, w))
                    np.add.at(counts, (rows[:, None], cols[None, :]), 1)
                    density += (cells / counts)[rows[:, None], cols[None, :]]
                    # At the map's own resolution: cells the mask touches.
                    hit = np.zeros((h, w), dtype=bool)
                    ys, xs = np.nonzero(mask)
                    hit[rows[ys], cols[xs]] = True
                    cell_in += np.maximum(cells, 0)[hit].sum()
                    cell_all += np.maximum(cells, 0).sum()
                    touched += hit.sum()
                    cells_n += h * w
                positive = np.maximum(density, 0)
                total = positive.sum()
                if total <= 0:
                    continue
                share = positive[mask].sum() / total
                cell_share_sum += cell_in / cell_all if cell_all > 0 else 0.0
                cell_area_sum += touched / cells_n
                t_acc = per_term.setdefault((stage, term), [0, 0.0, 0.0])
                t_acc[0] += 1
                t_acc[1] += share
                t_acc[2] += mask.mean()
                inside_sum += share
                area_sum += mask.mean()
                majority += share > 0.5
                maps += 1
    if maps == 0:
        print("no planted, predicted term on held-out images")
        return
    if args.by_term:
        for (stage, term), (n, inside, area) in sorted(per_term.items()):
            print(f"{stage:6} {term[:45]:45} maps {n:4d}  inside {inside / n:.3f}  "
                  f"mask_area {area / n:.3f}")
    print(f"maps {maps}  inside {inside_sum / maps:.3f}  mask_area {area_sum / maps:.3f}  "
          f"most_inside {majority / maps:.3f}  cells: inside {cell_share_sum / maps:.3f}  "
          f"mask_cells {cell_area_sum / maps:.3f}")


if __name__ == "__main__":
    main()
