#!/usr/bin/env bash
# Issue 21's measurement (docs/BENCHMARKS.md, "Bag-level learning"): image level, aggregated image
# scores (--level group, rules mean and max) and every bag learner (--unit bag, --bag-pool mean,
# max, meanmax, attention) on one dataset and feature store, the gene-grouped protocol; per run
# the wall time and peak RSS of the whole `evaluate` process; then `train` (image, and bag with
# each pooling a bundle takes) timed the same way.
# Usage: bench/bag_learning.sh BUILD_DIR WORK_DIR DATA FEATURES [LAYER]
#   e.g. DATA = `ishannot synth --like ../shared/data/bdgp-meta --missing 0.4` output's
#   images.csv, FEATURES = `ishannot extract --layers res4f --pool 4` of it.
# Prints one line per stage range and learner: mean over terms of group_auc and group_f1 (the
# per-term mean over folds), then the cost table. Runs are cached in WORK_DIR (delete to redo).
set -euo pipefail
build=$1; work=$2; data=$3; features=$4; layer=${5:-res4f}
run="$build/ishannot --quiet --seed 1234"
mkdir -p "$work"
log="$work/log"  # the commands' messages; shown when one fails
trap 'echo "bag_learning.sh: FAIL at line $LINENO; the last messages ($log):" >&2; tail -5 "$log" >&2' ERR
evaluate() {  # NAME ARGS...: one evaluate run, timed
  local name=$1; shift
  [[ -f "$work/$name/metrics.tsv" ]] && return
  /usr/bin/time -f "%e %M" -o "$work/$name.time" \
    $run evaluate --data "$data" --features "$features" --layers "$layer" --out "$work/$name" \
    "$@" > /dev/null 2>> "$log"
}
train() {  # NAME ARGS...: one train run (5-fold CV for the trust columns, then the bundle), timed
  local name=$1; shift
  [[ -f "$work/$name.h5" ]] && return
  /usr/bin/time -f "%e %M" -o "$work/$name.time" \
    $run train --data "$data" --features "$features" --layers "$layer" --out "$work/$name.h5" \
    "$@" > /dev/null 2>> "$log"
}
evaluate image-mean --level both --group-rule mean
evaluate image-max --level group --group-rule max
for pool in mean max meanmax attention; do evaluate "bag-$pool" --unit bag --bag-pool "$pool"; done
train train-image
for pool in mean max attention; do train "train-bag-$pool" --unit bag --bag-pool "$pool"; done
printf 'stage\tlearner\tgroup_auc\tgroup_f1\timage_auc\n'
for name in image-mean image-max bag-mean bag-max bag-meanmax bag-attention; do
  awk -F'\t' -v name="$name" '
    NR == 1 { for (i = 1; i <= NF; ++i) col[$i] = i; next }
    { key = $col["stage_range"] SUBSEP $col["term"]; m = $col["metric"] }
    m == "group_auc" || m == "group_f1" || m == "auc" {
      sum[m, key] += $col["value"]; cnt[m, key]++; stages[$col["stage_range"]] = 1 }
    END {
      for (k in cnt) { split(k, p, SUBSEP)  # metric, stage range, term
        tsum[p[1], p[2]] += sum[k] / cnt[k]; tcnt[p[1], p[2]]++ }
      for (s in stages)
        printf "%s\t%s\t%.4f\t%.4f\t%s\n", s, name, tsum["group_auc", s] / tcnt["group_auc", s],
          tsum["group_f1", s] / tcnt["group_f1", s],
          tcnt["auc", s] ? sprintf("%.4f", tsum["auc", s] / tcnt["auc", s]) : "" }
  ' "$work/$name/metrics.tsv" | sort -t'-' -k1,1n
done
printf '\nlearner\twall_s\tpeak_rss_mib\n'
for name in image-mean image-max bag-mean bag-max bag-meanmax bag-attention \
  train-image train-bag-mean train-bag-max train-bag-attention; do
  read -r wall rss < "$work/$name.time"
  printf '%s\t%s\t%d\n' "$name" "$wall" $((rss / 1024))
done
