#!/usr/bin/env bash
# Issue 21 on real pixels (docs/BENCHMARKS.md, "Bag-level learning"): bdgp-mini's 8 genes, bag
# bundles (mean pooling and attention MIL) trained on 6 genes, the held-out 2 (Dip-C, disco)
# annotated; every group call listed next to BDGP's own terms for that gene x stage range.
# Usage: bench/bag_mini.sh BUILD_DIR WORK_DIR [BDGP_MINI_DIR]
# Needs the CNN (extract, default recipe). Prints: gene, stage_range, term, bdgp (1 = BDGP lists
# the term for the group), then per learner its score and call.
set -euo pipefail
build=$1; work=$2; mini=${3:-$(dirname "$0")/../../shared/data/bdgp-mini}
mini=$(cd "$mini" && pwd)
run="$build/ishannot --quiet --seed 1234"
mkdir -p "$work"
log="$work/log"  # the commands' messages; shown when one fails
: > "$log"
trap 'echo "bag_mini.sh: FAIL at line $LINENO; the last messages ($log):" >&2; tail -5 "$log" >&2' ERR
# Manifests with absolute image paths: all, the 6 training genes, the 2 held-out genes.
awk -F, -v dir="$mini" 'NR == 1 { print; next } { $1 = dir "/images/" $1; print }' OFS=, \
  "$mini/images.csv" > "$work/all.csv"
awk -F, 'NR == 1 || ($2 != "Dip-C" && $2 != "disco")' "$work/all.csv" > "$work/train6.csv"
awk -F, 'NR == 1 || $2 == "Dip-C" || $2 == "disco"' "$work/all.csv" > "$work/held2.csv"
[[ -f "$work/mini.h5" ]] || $run extract --data "$work/all.csv" --out "$work/mini.h5" 2>> "$log"
for pool in mean attention; do
  [[ -f "$work/$pool.h5" ]] ||
    $run train --data "$work/train6.csv" --features "$work/mini.h5" --unit bag --bag-pool "$pool" \
      --out "$work/$pool.h5" 2>> "$log"
  rm -rf "$work/ann-$pool"
  $run annotate --model "$work/$pool.h5" --data "$work/held2.csv" --features "$work/mini.h5" \
    --stages 4-6,7-8,9-10,11-12,13-16 --out "$work/ann-$pool" 2>> "$log"
done
# BDGP's terms per group (the manifest's terms column, ';'-joined), then both learners' calls.
awk -F'\t' -v OFS='\t' '
  FILENAME ~ /held2.csv$/ { split($0, f, ","); key = f[2] SUBSEP f[4]; n = split(f[5], t, ";");
                            for (i = 1; i <= n; ++i) has[key, t[i]] = 1; next }
  FNR == 1 { for (i = 1; i <= NF; ++i) col[$i] = i; which = FILENAME ~ /ann-mean/ ? "mean" : "attention"; next }
  { k = $col["gene"] SUBSEP $col["stage_range"] SUBSEP $col["term"]
    if (!(k in order)) { order[k] = ++rows; keys[rows] = k }
    cell[k, which] = sprintf("%.3f %s", $col["score"], $col["call"]) }
  END { print "gene", "stage_range", "term", "bdgp", "mean: score call", "attention: score call"
        for (r = 1; r <= rows; ++r) { split(keys[r], p, SUBSEP)
          print p[1], p[2], p[3], ((p[1] SUBSEP p[2], p[3]) in has) ? 1 : 0,
                cell[keys[r], "mean"], cell[keys[r], "attention"] } }
' "$work/held2.csv" "$work/ann-mean/groups.tsv" "$work/ann-attention/groups.tsv"
