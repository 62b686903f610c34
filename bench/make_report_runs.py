#!/usr/bin/env python3
"""Evaluate outputs at BDGP's size, for timing `ishannot report` (bench/bench_report.sh).

Writes OUT/eval-tl (layers res4f, res5c) and OUT/eval-sc (sc_max): metrics.tsv, predictions.tsv,
roc.tsv, skipped.tsv and run.json in `evaluate`'s formats (docs/EVALUATION.md) for the paper's
stage ranges with Table 1's image counts (4173, 1953, 2153, 7441, 7564), 10 terms, 5 folds;
scores are random with a method-dependent signal. No image files: the report notes that there
are no thumbnails. Plain Python (no numpy).
Usage: python3 bench/make_report_runs.py OUT [SCALE]   (SCALE < 1 shrinks the image counts)
"""
import json
import math
import os
import random
import sys

STAGES = {"4-6": 4173, "7-8": 1953, "9-10": 2153, "11-12": 7441, "13-16": 7564}


def auc(scores, labels):
    pairs = sorted(zip(scores, labels))
    rank_sum, pos, i = 0.0, 0, 0
    while i < len(pairs):  # average ranks of ties
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        for k in range(i, j):
            if pairs[k][1]:
                rank_sum += (i + j + 1) / 2
                pos += 1
        i = j
    neg = len(pairs) - pos
    return None if pos == 0 or neg == 0 else (rank_sum - pos * (pos + 1) / 2) / (pos * neg)


def roc_points(scores, labels):
    pairs = sorted(zip(scores, labels), key=lambda x: -x[0])
    pos = sum(labels)
    neg = len(labels) - pos
    out, tp, fp = [("inf", 0.0, 0.0)], 0, 0
    for i, (s, y) in enumerate(pairs):
        tp += y
        fp += 1 - y
        if i + 1 == len(pairs) or pairs[i + 1][0] != s:
            out.append((repr(s), fp / neg, tp / pos))
    return out


def write_stage(files, method, layers, signal, stage, n, rng):
    m, p, r = files
    truth = random.Random(stage)  # the same dataset for every method
    genes = [truth.randrange(n // 4) for _ in range(n)]
    for t in range(10):
        term = f"term {t} of {stage}"
        gene_label = [truth.random() < 0.1 + 0.03 * t for _ in range(n // 4 + 1)]
        labels = [int(gene_label[g]) for g in genes]
        for li, layer in enumerate(layers):
            shift = signal - 0.2 * li
            scores = [1 / (1 + math.exp(-(rng.gauss(0, 1) + shift * (2 * y - 1)))) for y in labels]
            votes = [int(s > 0.5) for s in scores]
            for k in range(n):
                p.write(f"{method}\t{layer}\t{stage}\t{term}\t{genes[k] % 5}\tid{stage}_{k}\t"
                        f"g{genes[k]}\t{labels[k]}\t{scores[k]!r}\t{votes[k]}\n")
            for f in range(5):
                idx = [k for k in range(n) if genes[k] % 5 == f]
                a = auc([scores[k] for k in idx], [labels[k] for k in idx])
                if a is None:
                    continue
                acc = sum(votes[k] == labels[k] for k in idx) / len(idx)
                m.write(f"{method}\t{layer}\t{stage}\t{term}\t{f}\tauc\t{a!r}\n"
                        f"{method}\t{layer}\t{stage}\t{term}\t{f}\taccuracy\t{acc!r}\n")
            for th, fpr, tpr in roc_points(scores, labels):
                r.write(f"{method}\t{layer}\t{stage}\t{term}\t{th}\t{fpr!r}\t{tpr!r}\n")


def write_run(out, method, layers, signal, scale, rng):
    os.makedirs(out, exist_ok=True)
    with open(f"{out}/metrics.tsv", "w") as m, open(f"{out}/predictions.tsv", "w") as p, \
            open(f"{out}/roc.tsv", "w") as r:
        m.write("method\tlayer\tstage_range\tterm\tfold\tmetric\tvalue\n")
        p.write("method\tlayer\tstage_range\tterm\tfold\tid\tgene\ttrue_label\tscore\tpredicted\n")
        r.write("method\tlayer\tstage_range\tterm\tthreshold\tfpr\ttpr\n")
        for stage, n in STAGES.items():
            write_stage((m, p, r), method, layers, signal, stage, max(50, int(n * scale)), rng)
    with open(f"{out}/skipped.tsv", "w") as k:
        k.write("layer\tstage_range\tterm\tfold\treason\n")
    with open(f"{out}/run.json", "w") as j:
        json.dump({"format": "ishannot-evaluation", "config": {"method": method, "layers": layers},
                   "provenance": {"created_by": "bench/make_report_runs.py"}}, j)


def main():
    out = sys.argv[1]
    scale = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    rng = random.Random(12)
    write_run(f"{out}/eval-tl", "TL", ["res4f", "res5c"], 1.2, scale, rng)
    write_run(f"{out}/eval-sc", "SC", ["sc_max"], 0.7, scale, rng)


if __name__ == "__main__":
    main()
