#!/usr/bin/env python3
"""Checks that two runs of the study computed the same evaluations, value for value.

Usage: compare_evaluations.py RUN_A RUN_B
Each RUN holds eval/<method>/ (tl, tl-mtl, sc) with evaluate's outputs either directly (one call
over every stage range) or in one folder per stage range (the workflow). For each method the rows
of metrics.tsv, summary.tsv and predictions.tsv, pooled over stage ranges and sorted, must be
identical text: evaluate writes numbers with format_exact (they read back bit-exact), so equal text
is equal values. Exit 0 when identical, 1 with the first differences otherwise."""
import glob
import os
import sys

FILES = ["metrics.tsv", "summary.tsv", "predictions.tsv"]


def rows(run, method, name):
    paths = sorted(glob.glob(os.path.join(run, "eval", method, "**", name), recursive=True))
    if not paths:
        sys.exit(f"{run}/eval/{method}: no {name}")
    header, out = None, []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        if header is not None and lines[0] != header:
            sys.exit(f"{path}: header differs from the other {name} files")
        header = lines[0]
        out.extend(lines[1:])
    return header, sorted(out)


def main():
    a, b = sys.argv[1], sys.argv[2]
    failed = False
    for method in ["tl", "tl-mtl", "sc"]:
        for name in FILES:
            (ha, ra), (hb, rb) = rows(a, method, name), rows(b, method, name)
            if ha != hb or ra != rb:
                failed = True
                only_a = sorted(set(ra) - set(rb))[:3]
                only_b = sorted(set(rb) - set(ra))[:3]
                print(f"DIFFER {method} {name}: {len(ra)} vs {len(rb)} rows; only in {a}: "
                      f"{only_a}; only in {b}: {only_b}")
            else:
                print(f"same   {method} {name}: {len(ra)} rows")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
