#!/usr/bin/python3
"""Calibration and the no-call band measured on held-out genes of synthetic data (docs/ANNOTATE.md,
"Calibration").

Makes a synthetic store (bench/make_synthetic_store.py: one stage range, 10 terms with BDGP-like
frequencies, 3 images per gene, a per-gene latent so genes differ), splits the genes 80/20, trains
on the 80 % with each --calibration (none, platt, isotonic), annotates the held-out 20 % (a manifest
with terms: validation.tsv), and prints per method the Brier score and ECE of the held-out
probabilities (raw scores for none), then for the chosen method the calls of several no-call bands:
yes/no counts, precision and recall of yes, share uncertain.

Usage: bench/calibration_bench.py --ishannot build/ishannot --work /tmp/calib [--images 1500]
Needs python3-h5py and python3-numpy."""
import argparse
import csv
import os
import random
import subprocess
import sys


def run(args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)


def brier_ece(pairs, bins=10):
    if not pairs:
        return float("nan"), float("nan")
    brier = sum((p - y) ** 2 for p, y in pairs) / len(pairs)
    counts = [[0, 0.0, 0.0] for _ in range(bins)]
    for p, y in pairs:
        b = min(bins - 1, max(0, int(p * bins)))
        counts[b][0] += 1
        counts[b][1] += p
        counts[b][2] += y
    ece = sum(abs(s / n - t / n) * n for n, s, t in counts if n) / len(pairs)
    return brier, ece


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ishannot", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--images", type=int, default=1500)
    ap.add_argument("--dim", type=int, default=2048)
    ap.add_argument("--signal", type=float, default=0.35)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    data = os.path.join(a.work, "data")
    if not os.path.exists(os.path.join(data, "features.h5")):
        run([sys.executable, os.path.join(here, "make_synthetic_store.py"), "--images",
             str(a.images), "--dim", str(a.dim), "--signal", str(a.signal), "--seed",
             str(a.seed), "--out", data])
    rows = list(csv.DictReader(open(os.path.join(data, "images.csv"))))
    genes = sorted({r["gene"] for r in rows})
    random.Random(a.seed).shuffle(genes)
    held = set(genes[: len(genes) // 5])
    for name, keep in (("train.csv", lambda g: g not in held), ("heldout.csv", lambda g: g in held)):
        with open(os.path.join(data, name), "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
            w.writeheader()
            w.writerows(r for r in rows if keep(r["gene"]))
    truth = {r["image"].rsplit(".", 1)[0]: set(filter(None, r["terms"].split(";")))
             for r in rows if r["gene"] in held}
    store = os.path.join(data, "features.h5")
    print(f"{len(genes) - len(held)} training genes, {len(held)} held-out genes "
          f"({len(truth)} images), 10 terms")
    print("| calibration | Brier (held-out) | ECE (held-out) | image AUC (mean over terms) |")
    print("|---|---|---|---|")
    results = {}
    for method in ("none", "platt", "isotonic"):
        model = os.path.join(a.work, f"model-{method}.h5")
        out = os.path.join(a.work, f"annotated-{method}")
        if not os.path.exists(model):
            run([a.ishannot, "--quiet", "train", "--data", os.path.join(data, "train.csv"),
                 "--features", store, "--calibration", method, "--out", model])
        run([a.ishannot, "--quiet", "annotate", "--model", model, "--data",
             os.path.join(data, "heldout.csv"), "--features", store, "--heatmaps", "0",
             "--restart", "--out", out])
        ann = list(csv.DictReader(open(os.path.join(out, "annotations.tsv")), delimiter="\t"))
        key = "score" if method == "none" else "probability"
        pairs = [(float(r[key]), int(r["term"] in truth[r["image"]])) for r in ann if r[key]]
        brier, ece = brier_ece(pairs)
        val = [v for v in csv.DictReader(open(os.path.join(out, "validation.tsv")), delimiter="\t")
               if v["level"] == "image" and v["term"] != "all" and v["auc"]]
        auc = sum(float(v["auc"]) for v in val) / len(val)
        print(f"| {method} ({'raw score' if method == 'none' else 'probability'}) | {brier:.4f} "
              f"| {ece:.4f} | {auc:.4f} |")
        results[method] = ann
    print()
    for method in ("platt", "isotonic"):
        print(f"No-call bands with {method} (held-out images, all terms; validated terms only "
              "are called):")
        print("| band | yes | precision of yes | recall of yes | no | precision of no | "
              "uncertain |")
        print("|---|---|---|---|---|---|---|")
        ann = results[method]
        for low, high in ((0.5, 0.5), (0.4, 0.6), (0.3, 0.7), (0.2, 0.8), (0.1, 0.9)):
            yes = no = unc = ty = tn = pos = 0
            for r in ann:
                y = int(r["term"] in truth[r["image"]])
                pos += y
                p = float(r["probability"]) if r["probability"] else None
                if r["validated"] != "1" or p is None or low <= p <= high:
                    unc += 1
                elif p > high:
                    yes += 1
                    ty += y
                else:
                    no += 1
                    tn += 1 - y
            print(f"| {low:.1f}-{high:.1f} | {yes} | {ty / yes if yes else float('nan'):.3f} | "
                  f"{ty / pos:.3f} | {no} | {tn / no if no else float('nan'):.3f} | "
                  f"{unc / len(ann):.3f} |")
        print()


if __name__ == "__main__":
    main()
