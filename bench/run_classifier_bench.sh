#!/usr/bin/env bash
# Reproduces docs/bench/classifier.md (one core-heavy process at a time, --threads 1).
# Usage: bench/run_classifier_bench.sh [WORKDIR]   (needs build/ishannot, /usr/bin/python3 with
# python3-h5py, python3-numpy, python3-sklearn; about 45 minutes on a shared 2-core machine)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-/tmp/ishannot-classifier-bench}"
bin="$here/build/ishannot"
py=/usr/bin/python3
timed() { /usr/bin/time -v "$@"; }

# Section 2. 3,032 images (40 % of BDGP 13-16, same term rates) x 100,352 float16 features.
$py "$here/bench/make_synthetic_store.py" --images 3032 --dim 100352 --out "$work/mid"
timed "$bin" --threads 1 --progress plain evaluate --data "$work/mid/images.csv" \
  --features "$work/mid/features.h5" --out "$work/mid/ours" 2> "$work/mid/ours.time"

# Section 1. Same images, first 12,544 columns: ishannot vs scikit-learn liblinear, C = 1, M = 11.
$py - "$work/mid" <<'PY'
import sys, h5py, numpy as np
d = sys.argv[1]; cols = 12544
src = h5py.File(f"{d}/features.h5", "r")
x = src["features/synthetic"][:, :cols]
with h5py.File(f"{d}/subset.h5", "w") as h:
    h.attrs["format_version"] = np.int64(1)
    h.create_dataset("ids", data=[i.decode() if isinstance(i, bytes) else i for i in src["ids"][:]],
                     dtype=h5py.string_dtype())
    h.create_dataset("features/synthetic", data=x, chunks=(max(1, 262144 // (2 * cols)), cols))
PY
timed "$bin" --threads 1 --progress none evaluate --data "$work/mid/images.csv" \
  --features "$work/mid/subset.h5" --c-grid 1 --out "$work/mid/ours-subset-c1" \
  2> "$work/mid/ours-subset.time"
timed $py "$here/bench/sklearn_peer.py" --features "$work/mid/subset.h5" \
  --ours "$work/mid/ours-subset-c1" --C 1 --models 11 --out "$work/mid/peer-c1.tsv" \
  --terms term_00,term_01,term_02,term_03,term_04,term_05,term_06,term_07,term_08,term_09 \
  2> "$work/mid/peer.time"

# Section 3. Paper-size n: 7,580 images x 100,352 columns, Gram time and peak RSS (M = 1, fixed C).
$py "$here/bench/make_synthetic_store.py" --images 7580 --dim 100352 --out "$work/paper-n"
timed "$bin" --threads 1 --progress plain evaluate --data "$work/paper-n/images.csv" \
  --features "$work/paper-n/features.h5" --c-grid 1 --models 1 --out "$work/paper-n/ours" \
  2> "$work/paper-n/ours.time"
grep -h -E "Elapsed|Maximum resident|User time" "$work"/*/*.time
