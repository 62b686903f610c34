#!/usr/bin/env python3
"""The workflow's summary: every evaluation's summary.tsv in one table (summary.tsv, rows as
`ishannot evaluate` wrote them, header once) and a Table-2 style markdown (summary.md: per metric,
one row per method and layer, one column per stage range, mean +- std over terms).

Usage: summarise.py --tsv OUT.tsv --md OUT.md EVAL_DIR...   (each holding evaluate's summary.tsv);
the workflow calls write_summary() directly. Both files are written to a temp file and renamed,
so no half file is ever in place."""
import argparse
import csv
import os

METRICS = ["auc", "accuracy", "sensitivity", "specificity"]
STAGE_ORDER = ["1-3", "4-6", "7-8", "9-10", "11-12", "13-16"]


def write_atomically(path, text):
    tmp = path + ".partial"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def read_summaries(dirs):
    header, rows = None, []
    for d in dirs:
        path = os.path.join(d, "summary.tsv")
        with open(path, encoding="utf-8", newline="") as f:
            reader = csv.reader(f, delimiter="\t")
            head = next(reader, None)
            if head is None:
                raise ValueError(f"{path}: empty (expected evaluate's summary.tsv header)")
            if header is None:
                header = head
            elif head != header:
                raise ValueError(f"{path}: header {head} differs from {header}")
            rows.extend(reader)
    return header, rows


def markdown(header, rows):
    col = {name: i for i, name in enumerate(header)}
    stages = sorted({r[col["stage_range"]] for r in rows},
                    key=lambda s: STAGE_ORDER.index(s) if s in STAGE_ORDER else len(STAGE_ORDER))
    cells, lines = {}, []
    for r in rows:
        key = (r[col["metric"]], r[col["method"]], r[col["layer"]])
        mean, std = float(r[col["mean_over_terms"]]), float(r[col["std_over_terms"]])
        cells.setdefault(key, {})[r[col["stage_range"]]] = f"{mean:.4f} ± {std:.4f}"
    lines.append("Mean ± std over terms (per-term means over the outer folds), every method on "
                 "the same folds.\n")
    lines.append("| measure | method | layer | " + " | ".join(stages) + " |")
    lines.append("|---|---|---|" + "---|" * len(stages))
    metrics = METRICS + sorted({k[0] for k in cells} - set(METRICS))
    for metric in metrics:
        for (m, method, layer) in sorted(k for k in cells if k[0] == metric):
            row = [cells[(m, method, layer)].get(s, "–") for s in stages]
            lines.append(f"| {metric} | {method} | {layer} | " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def write_summary(dirs, tsv_path, md_path):
    header, rows = read_summaries(dirs)
    tsv = "\t".join(header) + "\n" + "".join("\t".join(r) + "\n" for r in rows)
    write_atomically(md_path, markdown(header, rows))
    write_atomically(tsv_path, tsv)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tsv", required=True)
    parser.add_argument("--md", required=True)
    parser.add_argument("dirs", nargs="+")
    args = parser.parse_args()
    write_summary(args.dirs, args.tsv, args.md)


if __name__ == "__main__":
    main()
