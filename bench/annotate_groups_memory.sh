#!/usr/bin/env bash
# Issue 22 item 7 (docs/BENCHMARKS.md, "annotate's memory with many groups"): peak RSS of
# `annotate --heatmaps 0` on stored features (no CNN: a torch-free build is enough) over 1,000
# and 10,000 synthetic images in ~2.5 images per gene x stage group (400 and 4,000 groups), one
# thread, with glibc's default allocator settings and, as the reference without heap
# fragmentation, MALLOC_MMAP_THRESHOLD_=131072 (the issue's observation).
# Usage: bash bench/annotate_groups_memory.sh BUILD_DIR WORK_DIR [DIM (10240)]
set -euo pipefail
build="$(cd "${1:?build dir}" && pwd)"
work="${2:?work dir}"
dim="${3:-10240}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin="$build/ishannot --quiet --threads 1"
py=/usr/bin/python3
mkdir -p "$work"
log() { echo "[$(date +%H:%M:%S) load $(cut -d' ' -f1 /proc/loadavg)] $*"; }
for n in 1000 10000; do
  [[ -f $work/g$n/features.h5 ]] || $py "$here/make_group_store.py" --images $n --dim "$dim" \
    --seed $n --out "$work/g$n"
done
[[ -f $work/m.h5 ]] || $bin train --data "$work/g1000/images.csv" --features "$work/g1000/features.h5" \
  --out "$work/m.h5" --folds 0 --c-grid 1 --top-k 10 --view all
for n in 1000 10000; do
  for env in "" "MALLOC_MMAP_THRESHOLD_=131072"; do
    rm -rf "$work/out$n"
    log "annotate $n images ${env:-(default malloc)}: $( { env $env /usr/bin/time \
      -f '%e s wall, %M KB peak RSS' $bin annotate --model "$work/m.h5" \
      --data "$work/g$n/images.csv" --features "$work/g$n/features.h5" --heatmaps 0 \
      --out "$work/out$n" >/dev/null; } 2>&1 | tail -1), $(($(wc -l <"$work/out$n/groups.tsv") - 1)) group rows"
  done
done
