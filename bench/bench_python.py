#!/usr/bin/env python3
"""Benchmarks of the Python module (docs/BENCHMARKS.md, "Python API"):

1. `import ishannot` wall time (fresh interpreters, median), and the first CNN call's import;
2. ishannot.extract on N in-memory RGB arrays vs `ishannot extract` on the same N images as PNG
   files (whole process: start-up, decode, forward, write), vs ishannot.extract on the paths;
   same layers, pooling, batch and threads, alternating, medians of --repeats; the features are
   checked equal;
3. peak RSS of annotating M images through the API from a generator (res4f native 4x10 bundle),
   for several M: it must not grow with M.

usage: PYTHONPATH=build/python python3 bench/bench_python.py [--images N] [--annotate M1,M2]
       [--threads T] [--work DIR]
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

import ishannot


def cli_binary():
    here = os.path.dirname(os.path.dirname(os.path.dirname(ishannot.__file__)))
    return os.environ.get("ISHANNOT_BINARY") or os.path.join(here, "ishannot")


def cli(*args, threads):
    t = time.perf_counter()
    subprocess.run([cli_binary(), "--quiet", "--threads", str(threads)] + [str(a) for a in args],
                   check=True)
    return time.perf_counter() - t


def import_time(runs=7):
    code = "import time; t = time.perf_counter(); import ishannot; print(time.perf_counter() - t)"
    times = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                  check=True).stdout) for _ in range(runs)]
    nets = ("import time, ishannot; t = time.perf_counter(); ishannot._cnn(); "
            "print(time.perf_counter() - t)")
    first_cnn = float(subprocess.run([sys.executable, "-c", nets], capture_output=True,
                                     text=True, check=True).stdout)
    return statistics.median(times), first_cnn


def images(work, n):
    from PIL import Image
    syn = os.path.join(work, f"syn{n}")
    if not os.path.exists(os.path.join(syn, "images.csv")):
        subprocess.run([cli_binary(), "--quiet", "synth", "--out", syn, "--images", str(n),
                        "--stages", "13-16"], check=True)
    dataset = ishannot.read_dataset(os.path.join(syn, "images.csv"))
    return dataset, [np.asarray(Image.open(p).convert("RGB")) for p in dataset.paths]


def extract_bench(work, n, threads, repeats):
    import h5py
    dataset, arrays = images(work, n)
    options = dict(layers="res4f", pool="4x10", input_size="native", threads=threads)
    store = os.path.join(work, f"cli{n}.h5")
    if os.path.exists(store):
        os.remove(store)
    ishannot.extract(arrays[:8], **options)  # weights loaded and plans compiled once, untimed
    t_arrays, t_paths, t_cli = [], [], []
    for _ in range(repeats):  # alternating, medians (docs/BENCHMARKS.md's rules)
        t = time.perf_counter()
        api = ishannot.extract(arrays, **options)
        t_arrays.append(time.perf_counter() - t)
        t = time.perf_counter()
        by_path = ishannot.extract(dataset.paths, **options)
        t_paths.append(time.perf_counter() - t)
        if os.path.exists(store):
            os.remove(store)
        t_cli.append(cli("extract", "--data", dataset.source, "--layers", "res4f", "--pool",
                         "4x10", "--input-size", "native", "--out", store, threads=threads))
    t_arrays, t_paths, t_cli = (statistics.median(x) for x in (t_arrays, t_paths, t_cli))
    with h5py.File(store) as f:
        same = np.array_equal(f["features/res4f"][()], api["res4f"]) and np.array_equal(
            by_path["res4f"], api["res4f"])
    return t_arrays, t_paths, t_cli, same


def annotate_rss(work, m, threads):
    """Peak RSS of a child process annotating m images from a generator."""
    dataset, arrays = images(work, 16)
    bundle = os.path.join(work, "bundle.h5")
    if not os.path.exists(bundle):
        ishannot.train(dataset, out=bundle, folds=0, top_k=3, view="all", models=3, c_grid=[1])
    code = f"""
import resource, sys, time, numpy as np, ishannot
from PIL import Image
model = ishannot.Model.load({bundle!r})
base = [np.asarray(Image.open(p).convert("RGB")) for p in {dataset.paths!r}]
gen = (base[k % len(base)] for k in range({m}))
t = time.perf_counter()
table = model.annotate(gen, stage_range="13-16", threads={threads})
print(len(table), time.perf_counter() - t,
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    return int(out[0]), float(out[1]), float(out[2])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--images", type=int, default=1000)
    p.add_argument("--annotate", default="500,2000")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--work", default="bench-python")
    p.add_argument("--repeats", type=int, default=3, help="extract runs per side (median)")
    a = p.parse_args()
    os.makedirs(a.work, exist_ok=True)
    median, first_cnn = import_time()
    print(f"import ishannot: {median:.3f} s (median of 7); first CNN call's import: "
          f"{first_cnn:.3f} s")
    t_arrays, t_paths, t_cli, same = extract_bench(a.work, a.images, a.threads, a.repeats)
    print(f"extract {a.images} images, res4f native 4x10, threads {a.threads}: "
          f"medians of {a.repeats}: API arrays {t_arrays:.2f} s, API paths {t_paths:.2f} s, "
          f"CLI files {t_cli:.2f} s (whole process); "
          f"features equal: {same}")
    for m in [int(x) for x in a.annotate.split(",")]:
        rows, seconds, rss = annotate_rss(a.work, m, a.threads)
        print(f"annotate {m} images from a generator: {rows} rows, {seconds:.1f} s, "
              f"peak RSS {rss:.0f} MiB")
    print(f"this process: peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
