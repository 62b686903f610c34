#!/usr/bin/env bash
# The paper-size evaluate of issue 23 (docs/bench/classifier.md, "Paper size, round 3"): 7,580
# images x 401,408 float16 features (6.1 GB, made once by make_synthetic_store.py), one stage
# range, 10 terms, 5 grouped folds. Prints the FMA peak of this machine, then for each run the
# wall time, CPU, peak RSS and evaluate's own Gram / classifier seconds, and the Gram's GFLOP/s
# and share of the all-core AVX-512 (else AVX2) peak.
#   bench/paper_evaluate.sh [WORKDIR] [THREADS]   (needs build/ishannot, build/ishannot_fma_peak,
#   /usr/bin/python3 with h5py and numpy; ~7 GB disk; ~9 min on the 2-CPU VM, +1.5 min to make
#   the store). Each run ends in a verdict against issue 23's targets (Gram >= 60 % of the peak;
#   full protocol <= 4 min wall and <= 2 GB peak RSS): PASS or FAIL per target.
# Runs: (1) --c-grid 1 --models 1: the Gram and 50 single fits (the Gram measurement);
#       (2) the full protocol (inner CV for C over the default grid, M = 11).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-/tmp/ishannot-paper}"
threads="${2:-2}"
bin="$here/build/ishannot"
mkdir -p "$work"
[ -f "$work/features.h5" ] ||
  /usr/bin/python3 "$here/bench/make_synthetic_store.py" --images 7580 --dim 401408 --out "$work"
peak_json="$("$here/build/ishannot_fma_peak" 1)"
echo "fma peak: $peak_json"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
cat "$work/features.h5" > /dev/null  # warm the page cache: both runs read it from memory
for run in gram full; do
  extra=()
  [ "$run" = gram ] && extra=(--c-grid 1 --models 1)
  rm -rf "$work/out-$run"
  /usr/bin/time -v "$bin" --threads "$threads" --progress none evaluate \
    --data "$work/images.csv" --features "$work/features.h5" "${extra[@]}" \
    --out "$work/out-$run" > "$work/out-$run.stdout" 2> "$work/out-$run.time"
  PEAK="$peak_json" RUN="$run" WORK="$work" /usr/bin/python3 - <<'PY'
import json, os, re
work, run = os.environ["WORK"], os.environ["RUN"]
peak = json.loads(os.environ["PEAK"])
allcore = peak["avx512_gflops_all"] or peak["avx2_gflops_all"]
text = open(f"{work}/out-{run}.time").read()
def field(name):
    return re.search(name + r": (.*)", text).group(1).strip()
seconds = json.load(open(f"{work}/out-{run}/run.json"))["seconds"]
gram = sum(v for k, v in seconds.items() if k.startswith("gram/"))
classify = sum(v for k, v in seconds.items() if k.startswith("classify/"))
n, d = 7580, 401408
gflops = n * (n + 1) / 2 * d * 2 / gram / 1e9
print(f"{run}: wall {field('Elapsed .wall clock. time .h:mm:ss or m:ss.')}, "
      f"user {field('User time .seconds.')} s, sys {field('System time .seconds.')} s, "
      f"peak RSS {int(field('Maximum resident set size .kbytes.')) / 1024:.0f} MiB; "
      f"gram {gram:.1f} s ({gflops:.0f} GFLOP/s, {100 * gflops / allcore:.0f} % of {allcore} "
      f"all-core peak), classifiers {classify:.1f} s")
wall = sum(float(x) * 60 ** i for i, x in
           enumerate(reversed(field('Elapsed .wall clock. time .h:mm:ss or m:ss.').split(":"))))
rss_gib = int(field('Maximum resident set size .kbytes.')) / 1024 ** 2
checks = [("gram >= 60 % of peak", gflops >= 0.6 * allcore)]
if run == "full":
    checks += [("wall <= 4 min", wall <= 240), ("peak RSS <= 2 GB", rss_gib <= 2 * 1e9 / 2 ** 30)]
for name, ok in checks:
    print(f"  {'PASS' if ok else 'FAIL'} {name}")
PY
done
