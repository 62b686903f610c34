#!/usr/bin/env python3
"""Writes the minimal feature store a user can write with h5py (docs/FEATURE_STORE.md), as an
independent writer for the store-contract tests: it shares no code with ishannot.

usage: write_h5py_store.py OUT.h5 IDS_FORM MANIFEST.csv [--huge ROW] [--zero ROW] [--prefix P]
  IDS_FORM: vlen  -> /ids as variable-length UTF-8 strings (h5py's str)
            fixed -> /ids as np.array(ids, dtype='S') (fixed-length, NULLPAD)
Features: layer "feat" (float32), 12 values per image: a per-term pattern plus noise, so that a
term is learnable; the image ids are the manifest's file stems (optionally prefixed).
"""
import csv
import os
import sys

import h5py
import numpy as np


def main():
    out, form, manifest = sys.argv[1:4]
    rest = sys.argv[4:]
    huge = int(rest[rest.index("--huge") + 1]) if "--huge" in rest else -1
    zero = int(rest[rest.index("--zero") + 1]) if "--zero" in rest else -1
    prefix = rest[rest.index("--prefix") + 1] if "--prefix" in rest else ""
    with open(manifest, newline="") as f:
        rows = list(csv.DictReader(f))
    rng = np.random.default_rng(3)
    patterns = {}
    ids, features = [], []
    for row in rows:
        ids.append(prefix + os.path.splitext(os.path.basename(row["image"]))[0])
        x = rng.normal(size=12)
        for term in filter(None, row["terms"].split(";")):
            if term not in patterns:
                patterns[term] = 2.0 * rng.normal(size=12)
            x += patterns[term]
        features.append(x)
    features = np.array(features, dtype=np.float32)
    if huge >= 0:
        features[huge, 3] = 3e38  # finite in float32, overflows any product
    if zero >= 0:
        features[zero, :] = 0
    with h5py.File(out, "w") as f:
        f.attrs["format_version"] = 1
        if form == "vlen":
            f["ids"] = ids  # h5py stores a list of str as variable-length UTF-8
        elif form == "fixed":
            f["ids"] = np.array(ids, dtype="S")
        else:
            raise SystemExit("IDS_FORM must be vlen or fixed")
        f.create_dataset("features/feat", data=features)


if __name__ == "__main__":
    main()
