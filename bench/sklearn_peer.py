#!/usr/bin/env python3
"""The peer a user would pick: scikit-learn LogisticRegression(solver='liblinear') in the same
under-sampling ensemble (M members, majority vote + mean probability), on the same features
(l2-normalised rows), the same grouped folds and the same C, for a few terms.

  sklearn_peer.py --features F.h5 --ours DIR --terms term_00,term_04 [--columns N]
                  [--write-subset SUBSET.h5] [--models 11] [--C 1] [--folds 0] --out peer.tsv

--ours DIR: an `ishannot evaluate` output folder on the same images: folds and labels are taken
from its predictions.tsv, ours' AUC per (term, fold) from its metrics.tsv.
--columns N: use only the first N feature columns (liblinear copies X into 16-byte nodes per
value; the full 401,408 columns do not fit in RAM). --write-subset writes those columns as an
ishannot store, so that ishannot can be run on exactly the same features.
Needs Debian's python3-sklearn, python3-h5py, python3-numpy (/usr/bin/python3)."""
import argparse
import csv
import time

import h5py
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import normalize


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--features", required=True)
    ap.add_argument("--layer", default="synthetic")
    ap.add_argument("--ours", required=True)
    ap.add_argument("--terms", required=True)
    ap.add_argument("--columns", type=int, default=0)
    ap.add_argument("--write-subset", default="")
    ap.add_argument("--models", type=int, default=11)
    ap.add_argument("--C", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--folds", default="", help="only these outer folds, e.g. 0 or 0,2")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    with h5py.File(args.features, "r") as h:
        ids = [i.decode() if isinstance(i, bytes) else i for i in h["ids"][:]]
        ds = h["features/" + args.layer]
        cols = args.columns or ds.shape[1]
        t0 = time.time()
        x = ds[:, :cols].astype(np.float32)
        load_s = time.time() - t0
    if args.write_subset:
        with h5py.File(args.write_subset, "w") as h:
            h.attrs["format_version"] = np.int64(1)
            h.attrs["created_by"] = f"bench/sklearn_peer.py --columns {cols}"
            h.create_dataset("ids", data=ids, dtype=h5py.string_dtype())
            h.create_dataset("features/" + args.layer, data=x.astype(np.float16),
                             chunks=(max(1, 262144 // (2 * cols)), cols))
    row_of = {i: r for r, i in enumerate(ids)}

    fold_of, label_of = {}, {}
    with open(f"{args.ours}/predictions.tsv") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            fold_of[r["id"]] = int(r["fold"])
            label_of[(r["term"], r["id"])] = int(r["true_label"])
    ours_auc = {}
    with open(f"{args.ours}/metrics.tsv") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            if r["metric"] == "auc":
                ours_auc[(r["term"], int(r["fold"]))] = float(r["value"])
    images = sorted(fold_of)
    xs = normalize(x[[row_of[i] for i in images]].astype(np.float64))  # l2 per image
    folds = np.array([fold_of[i] for i in images])
    rng = np.random.default_rng(args.seed)
    rows = []
    for term in args.terms.split(","):
        y = np.array([label_of[(term, i)] for i in images])
        chosen = [int(f) for f in args.folds.split(",")] if args.folds else sorted(set(folds))
        for fold in chosen:
            train, test = np.where(folds != fold)[0], np.where(folds == fold)[0]
            pos, neg = train[y[train] == 1], train[y[train] == 0]
            minority, majority = (pos, neg) if len(pos) <= len(neg) else (neg, pos)
            t0 = time.time()
            prob = np.zeros(len(test))
            votes = np.zeros(len(test))
            for _ in range(args.models):
                sample = np.concatenate([minority, rng.choice(majority, len(minority), replace=False)])
                model = LogisticRegression(solver="liblinear", C=args.C)
                model.fit(xs[sample], y[sample])
                p = model.predict_proba(xs[test])[:, 1]
                prob += p / args.models
                votes += p > 0.5
            seconds = time.time() - t0
            auc = roc_auc_score(y[test], prob)
            rows.append((term, fold, auc, ours_auc.get((term, fold), float("nan")), seconds))
            print(f"{term} fold {fold}: sklearn AUC {auc:.4f}, ishannot "
                  f"{rows[-1][3]:.4f}, {seconds:.1f} s", flush=True)
    with open(args.out, "w") as f:
        f.write(f"# columns={cols} images={len(images)} models={args.models} C={args.C} "
                f"load_s={load_s:.1f}\nterm\tfold\tauc_sklearn\tauc_ishannot\tseconds\n")
        for r in rows:
            f.write("\t".join(str(v) for v in r) + "\n")


if __name__ == "__main__":
    main()
