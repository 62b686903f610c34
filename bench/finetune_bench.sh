#!/bin/sh
# Seconds per fine-tuning epoch of ResNet50 on 2 threads: head only, frozen through res4f and
# res3d (cached trunk vs recomputed), fully trainable. One epoch each, no validation.
#
# usage: bench/finetune_bench.sh MANIFEST [INPUT_SIZE=112x112]
#   e.g. bench/replicate_manifest.py /tmp/ftbench 5 && bench/finetune_bench.sh /tmp/ftbench/images.csv
# Output: config, wall and CPU seconds of the epoch, time to fill the trunk cache (wall, CPU),
# load average before the run. On a shared machine compare CPU seconds.
set -eu
BIN=${ISHANNOT:-build/ishannot}
DATA=$1
SIZE=${2:-112x112}
OUT=${OUT:-/tmp/ishannot-ftbench-out}
mkdir -p "$OUT"
printf 'config\tepoch_s\tepoch_cpu_s\tcache\tload\n'
run() {
  name=$1
  shift
  load=$(cut -d' ' -f1 /proc/loadavg)
  "$BIN" --threads 2 --progress none finetune --data "$DATA" --stage 13-16 --input-size "$SIZE" \
    --epochs 1 --val-fraction 0 --out "$OUT/$name.pt" "$@" 2>"$OUT/$name.log"
  secs=$(awk -F'\t' '$2=="seconds"{print $4}' "$OUT/$name.pt.curve.tsv")
  cpu=$(awk -F'\t' '$2=="cpu_seconds"{print $4}' "$OUT/$name.pt.curve.tsv")
  cache=$(grep -o 'MB in [0-9]* s (CPU [0-9]* s)' "$OUT/$name.log" || echo -)
  printf '%s\t%.1f\t%.1f\t%s\t%s\n' "$name" "$secs" "$cpu" "$cache" "$load"
  rm -f "$OUT/$name.pt"
}
run head_only_cached --freeze-through res5c
run res4f_cached --freeze-through res4f
run res4f_recomputed --freeze-through res4f --no-cache
run res3d_cached --freeze-through res3d
run res3d_recomputed --freeze-through res3d --no-cache
run fully_trainable --freeze-through none
