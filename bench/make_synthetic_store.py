#!/usr/bin/env python3
"""Synthetic, BDGP-shaped classifier benchmark input: a manifest CSV (one stage range, genes with
several images each, 10 terms with BDGP-like frequencies) and a float16 feature store in
ishannot's format (/ids, /features/<layer>, format_version) with structure, so AUCs mean
something: x = relu(sum_t label_t * pattern_t + gene latent (low rank) + noise).

Usage: make_synthetic_store.py --images 7580 --dim 401408 --out DIR [--seed 1]
Needs Debian's python3-h5py and python3-numpy (/usr/bin/python3)."""
import argparse
import os

import h5py
import numpy as np

TERM_POSITIVES = [2945, 2100, 1600, 1200, 891, 700, 520, 400, 280, 165]  # of 7580 images (13-16)
PAPER_IMAGES = 7580


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=7580)
    ap.add_argument("--dim", type=int, default=401408)
    ap.add_argument("--per-gene", type=int, default=3)
    ap.add_argument("--signal", type=float, default=0.35)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    os.makedirs(args.out, exist_ok=True)
    n, d = args.images, args.dim
    genes = n // args.per_gene + (n % args.per_gene > 0)
    gene_of = np.repeat(np.arange(genes), args.per_gene)[:n]
    # Group-level labels: each gene carries term t with probability positives_t / n.
    terms = [f"term_{t:02d}" for t in range(len(TERM_POSITIVES))]
    gene_labels = np.stack([rng.random(genes) < p / PAPER_IMAGES for p in TERM_POSITIVES], axis=1)
    labels = gene_labels[gene_of]
    with open(os.path.join(args.out, "images.csv"), "w") as f:
        f.write("image,gene,stage_range,terms\n")
        for i in range(n):
            t = ";".join(terms[k] for k in range(len(terms)) if labels[i, k])
            f.write(f"img{i:05d}.png,gene{gene_of[i]:05d},13-16,{t}\n")
    rank = 16
    patterns = (rng.standard_normal((len(terms), d), dtype=np.float32) *
                (rng.random((len(terms), d)) < 0.2)).astype(np.float32)
    basis = rng.standard_normal((rank, d), dtype=np.float32) * 0.5
    gene_coef = rng.standard_normal((genes, rank), dtype=np.float32)
    path = os.path.join(args.out, "features.h5")
    with h5py.File(path + ".partial", "w") as h:
        h.attrs["format_version"] = np.int64(1)
        h.attrs["backbone"] = "synthetic"
        h.attrs["created_by"] = "bench/make_synthetic_store.py"
        h.attrs["seed"] = str(args.seed)
        ids = h.create_dataset("ids", (n,), dtype=h5py.string_dtype())
        ids[:] = [f"img{i:05d}" for i in range(n)]
        rows_per_chunk = max(1, 262144 // (2 * d))
        x = h.create_dataset("features/synthetic", (n, d), dtype=np.float16,
                             chunks=(rows_per_chunk, d), maxshape=(None, d))
        x.attrs["layer"] = "synthetic"
        x.attrs["shape"] = f"{d}"
        step = max(1, (64 << 20) // (4 * d))
        for r0 in range(0, n, step):
            r1 = min(n, r0 + step)
            block = rng.standard_normal((r1 - r0, d), dtype=np.float32)
            block += args.signal * (labels[r0:r1].astype(np.float32) @ patterns)
            block += gene_coef[gene_of[r0:r1]] @ basis
            np.maximum(block, 0, out=block)
            x[r0:r1] = block.astype(np.float16)
    os.replace(path + ".partial", path)
    print(f"wrote {path}: {n} x {d} float16, {genes} genes, positives per term "
          f"{labels.sum(axis=0).tolist()}")


if __name__ == "__main__":
    main()
