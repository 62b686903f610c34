#!/usr/bin/env bash
# Benchmark of the sparse-coding baseline: dictionary learning and coding time on 1,000 and
# 7,580 synthetic 320x128 images, single-threaded (--threads 1) so the numbers are per core.
# Usage: bench/bench_baseline.sh [BUILD_DIR] [WORK_DIR]
# Writes WORK_DIR/bench_baseline.log; results are summarised by hand in docs/bench/baseline.md.
set -euo pipefail
build=${1:-build}
work=${2:-/tmp/ishannot-bench-baseline}
bin="$build/ishannot"
mkdir -p "$work"
log="$work/bench_baseline.log"
: > "$log"
# Synthetic data: 1,000 images over the five stage ranges; 7,580 images of stage 13-16 (the size
# of BDGP's lateral 13-16 set).
[ -f "$work/syn1000/images.csv" ] || "$bin" --threads 1 --quiet synth --out "$work/syn1000" --images 1000 --seed 1
[ -f "$work/syn7580/images.csv" ] || "$bin" --threads 1 --quiet synth --out "$work/syn7580" --images 7580 --stages 13-16 --seed 2
for n in 1000 7580; do
  echo "== $n images: learn a 1024-atom dictionary and code (lasso, 3 poolings, 1x1+2x2+4x4)" | tee -a "$log"
  "$bin" --threads 1 --progress none baseline --data "$work/syn$n/images.csv" \
    --out "$work/sc$n.h5" --dtype float16 2>&1 | tee -a "$log"
done
echo "== OMP coder (10 atoms) on the 1,000 images, dictionary reused" | tee -a "$log"
"$bin" --threads 1 --progress none baseline --data "$work/syn1000/images.csv" --out "$work/sc1000_omp.h5" \
  --dictionary "$work/sc1000.dictionary.txt" --coder omp --dtype float16 2>&1 | tee -a "$log"
