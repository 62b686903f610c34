#!/usr/bin/env bash
# Reproduces docs/bench/classifier.md (one core-heavy process at a time, --threads 1).
# Usage: bench/run_classifier_bench.sh [WORKDIR]   (needs build/ishannot, /usr/bin/python3 with
# python3-h5py, python3-numpy, python3-sklearn; about 2 hours on a shared 2-core machine, 15 GB disk)
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
# Section 4. Paper scale: 7,580 x 401,408 float16 (6.1 GB), C = 1, M = 11, end to end; the peer
# on fold 0 (all 10 terms) at 25,088 and 50,176 columns (its cost is linear in the columns; the
# full width does not fit in RAM), ishannot on the same 50,176 columns for the AUC agreement.
$py "$here/bench/make_synthetic_store.py" --images 7580 --dim 401408 --out "$work/paper"
timed "$bin" --threads 1 --progress plain evaluate --data "$work/paper/images.csv" \
  --features "$work/paper/features.h5" --c-grid 1 --models 11 --out "$work/paper/ours-c1" \
  2> "$work/paper/ours-c1.time"
terms=term_00,term_01,term_02,term_03,term_04,term_05,term_06,term_07,term_08,term_09
timed $py "$here/bench/sklearn_peer.py" --features "$work/paper/features.h5" \
  --ours "$work/paper/ours-c1" --terms $terms --columns 25088 --folds 0 \
  --out "$work/paper/peer25k.tsv" 2> "$work/paper/peer25k.time"
timed $py "$here/bench/sklearn_peer.py" --features "$work/paper/features.h5" \
  --ours "$work/paper/ours-c1" --terms $terms --columns 50176 --folds 0 \
  --write-subset "$work/paper/sub50k.h5" --out "$work/paper/peer50k.tsv" 2> "$work/paper/peer50k.time"
timed "$bin" --threads 1 --progress plain evaluate --data "$work/paper/images.csv" \
  --features "$work/paper/sub50k.h5" --c-grid 1 --models 11 --out "$work/paper/ours-sub50k" \
  2> "$work/paper/ours-sub50k.time"
# The same at 2 threads (wall time on the 2-core machine).
timed "$bin" --threads 2 --progress plain evaluate --data "$work/paper/images.csv" \
  --features "$work/paper/features.h5" --c-grid 1 --models 11 --out "$work/paper/ours-c1-t2" \
  2> "$work/paper/ours-c1-t2.time"

grep -h -E "Elapsed|Maximum resident|User time" "$work"/*/*.time
