#!/usr/bin/env python3
"""Synthetic stored features for annotate's memory benchmark (issue 22 item 7): N images in many
gene x stage-range groups (~2.5 images per group: 10,000 images make 4,000 groups over two stage
ranges), 10 terms given per gene, a manifest CSV and a float16 feature store in ishannot's format
with the same recipe attributes whatever N (so a bundle trained on one store applies to another).

Usage: make_group_store.py --images 10000 --dim 10240 --out DIR [--seed 1]
Needs Debian's python3-h5py and python3-numpy (/usr/bin/python3)."""
import argparse
import os

import h5py
import numpy as np

STAGES = ["11-12", "13-16"]
TERMS = [f"term_{t:02d}" for t in range(10)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, required=True)
    ap.add_argument("--dim", type=int, default=10240)
    ap.add_argument("--images-per-group", type=float, default=2.5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    os.makedirs(args.out, exist_ok=True)
    n, d = args.images, args.dim
    groups = max(2, int(round(n / args.images_per_group)))
    group_of = np.arange(n) % groups  # group k: gene k // 2 at stage range k % 2
    genes = (groups + 1) // 2
    gene_labels = rng.random((genes, len(TERMS))) < np.linspace(0.45, 0.05, len(TERMS))
    labels = gene_labels[group_of // 2]
    with open(os.path.join(args.out, "images.csv"), "w") as f:
        f.write("image,gene,stage_range,terms\n")
        for i in range(n):
            t = ";".join(TERMS[k] for k in range(len(TERMS)) if labels[i, k])
            f.write(f"img{i:06d}.png,gene{group_of[i] // 2:05d},{STAGES[group_of[i] % 2]},{t}\n")
    patterns = rng.standard_normal((len(TERMS), d), dtype=np.float32) * 0.6
    path = os.path.join(args.out, "features.h5")
    with h5py.File(path + ".partial", "w") as h:
        h.attrs["format_version"] = np.int64(1)
        for key, value in {"backbone": "synthetic", "weights_sha256": "none",
                           "input_size": "320x128", "resize_policy": "native",
                           "preprocessing": "none", "pooling": "avg:2x5",
                           "layers": "res4f"}.items():
            h.attrs[key] = value
        ids = h.create_dataset("ids", (n,), dtype=h5py.string_dtype())
        ids[:] = [f"img{i:06d}" for i in range(n)]
        x = h.create_dataset("features/res4f", (n, d), dtype=np.float16,
                             chunks=(max(1, 262144 // (2 * d)), d), maxshape=(None, d))
        x.attrs["layer"] = "res4f"
        x.attrs["shape"] = f"{d // 10}x2x5"
        x.attrs["pooling"] = "avg:2x5"
        step = max(1, (64 << 20) // (4 * d))
        for r0 in range(0, n, step):
            r1 = min(n, r0 + step)
            block = rng.standard_normal((r1 - r0, d), dtype=np.float32)
            block += labels[r0:r1].astype(np.float32) @ patterns
            x[r0:r1] = np.maximum(block, 0).astype(np.float16)
    os.replace(path + ".partial", path)
    print(f"wrote {path}: {n} x {d} float16, {groups} gene x stage groups")


if __name__ == "__main__":
    main()
