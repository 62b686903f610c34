#!/usr/bin/env python3
"""Average-pools an unpooled feature store (extract --pool none) to a coarser grid, as
extract --pool GhxGw would: each map's H x W cells are averaged in blocks of (H/Gh) x (W/Gw)
(exactly adaptive average pooling when the sizes divide). Writes an ishannot feature store with
the same attributes and pooling = avg:GhxGw, so one extraction serves several recipes.

Usage: pool_store.py IN.h5 LAYER GhxGw OUT.h5     (Debian's python3-h5py, python3-numpy)"""
import sys

import h5py
import numpy as np


def main():
    src, layer, grid, out = sys.argv[1:5]
    gh, gw = (int(v) for v in grid.split("x"))
    with h5py.File(src, "r") as f, h5py.File(out + ".partial", "w") as g:
        pooling = f.attrs["pooling"]
        pooling = pooling.decode() if isinstance(pooling, bytes) else pooling
        assert pooling == "none", f"{src}: pooling {pooling}, expected none"
        for key, value in f.attrs.items():
            g.attrs[key] = value
        g.attrs["pooling"] = f"avg:{gh}x{gw}"
        g.attrs["created_by"] = "bench/pool_store.py " + " ".join(sys.argv[1:])
        ids = f["ids"][:]
        g.create_dataset("ids", data=ids, dtype=h5py.string_dtype(), maxshape=(None,),
                         chunks=True)
        x = f["features"][layer]
        shape = x.attrs["shape"]
        shape = shape.decode() if isinstance(shape, bytes) else shape
        c, h, w = (int(v) for v in shape.split("x"))
        assert h % gh == 0 and w % gw == 0, "the grid must divide the map"
        n = x.shape[0]
        y = g.create_dataset(f"features/{layer}", (n, c * gh * gw), dtype=x.dtype,
                             chunks=(max(1, 262144 // (2 * c * gh * gw)), c * gh * gw),
                             maxshape=(None, c * gh * gw))
        for key, value in x.attrs.items():
            y.attrs[key] = value
        y.attrs["dim"] = np.int64(c * gh * gw)
        for r0 in range(0, n, 256):
            block = x[r0:r0 + 256].astype(np.float32).reshape(-1, c, gh, h // gh, gw, w // gw)
            y[r0:r0 + 256] = block.mean(axis=(3, 5)).reshape(-1, c * gh * gw).astype(x.dtype)
    import os
    os.rename(out + ".partial", out)


if __name__ == "__main__":
    main()
