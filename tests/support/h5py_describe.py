#!/usr/bin/env python3
"""Prints, as JSON, what h5py (an independent reader) sees in a feature store: root attributes,
per-layer attributes and shapes, /ids and /meta/* as text. usage: h5py_describe.py STORE.h5"""
import json
import sys

import h5py


def text(value):
    if isinstance(value, bytes):
        return value.decode()
    if hasattr(value, "item"):
        value = value.item()
    return value if isinstance(value, (str, int, float)) else str(value)


with h5py.File(sys.argv[1], "r") as f:
    out = {"attrs": {k: text(v) for k, v in f.attrs.items()},
           "ids": [text(i) for i in f["ids"][:]],
           "layers": {name: {"shape": list(d.shape), "attrs": {k: text(v) for k, v in d.attrs.items()}}
                      for name, d in f["features"].items()},
           "meta": {name: [text(v) for v in d[:]] for name, d in f["meta"].items()} if "meta" in f else {}}
print(json.dumps(out))
