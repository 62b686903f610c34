#!/usr/bin/env bash
# The group rule comparison of docs/ANNOTATE.md ("Group level"): the same out-of-fold image
# predictions aggregated to gene x stage-range groups by each rule (mean, max, votes), on
# synthetic data; image-level AUC beside them.
# Usage: bench/group_rules.sh BUILD_DIR WORK_DIR [IMAGES] [FEATURES]
#   WORK_DIR/syn/images.csv: `ishannot synth --images IMAGES` unless it is there already (e.g.
#   written by bench/make_synthetic_store.py --out WORK_DIR/syn, with FEATURES
#   WORK_DIR/syn/features.h5 and LAYER=synthetic).
#   FEATURES: a feature store of it with layer LAYER (default: SC features computed here with
#   `baseline`, torch-free; LAYER=sc_max). METHOD names the run (default SC).
# Prints one line per stage range and rule: mean over terms of the per-term mean over folds of
# auc, group_auc, group_sensitivity, group_specificity.
set -euo pipefail
build=$1; work=$2; images=${3:-2000}; features=${4:-}
layer=${LAYER:-sc_max}
method=${METHOD:-SC}
bin="$build/ishannot"
run="$bin --quiet --seed 1234"
mkdir -p "$work"
[[ -f "$work/syn/images.csv" ]] || $run synth --out "$work/syn" --images "$images"
if [[ -z "$features" ]]; then
  features="$work/sc.h5"
  [[ -f "$features" ]] || $run baseline --data "$work/syn/images.csv" --pooling max --out "$features"
fi
for rule in mean max votes; do
  [[ -f "$work/eval-$rule/metrics.tsv" ]] ||
    $run evaluate --data "$work/syn/images.csv" --features "$features" --layers "$layer" \
      --method "$method" --level both --group-rule "$rule" --out "$work/eval-$rule" > /dev/null
done
printf 'stage\trule\tauc\tgroup_auc\tgroup_sensitivity\tgroup_specificity\n'
for rule in mean max votes; do
  # metrics.tsv: method layer stage_range stage_order term fold metric value
  awk -F'\t' -v rule="$rule" 'NR > 1 && ($7 == "auc" || $7 == "group_auc" ||
      $7 == "group_sensitivity" || $7 == "group_specificity") && $8 != "nan" {
      k = $3 SUBSEP $5 SUBSEP $7; s[k] += $8; n[k]++; order[$3] = $4 }
    END {
      for (k in s) { split(k, p, SUBSEP); m[p[1] SUBSEP p[3]] += s[k] / n[k]; c[p[1] SUBSEP p[3]]++ }
      for (st in order) {
        printf "%s\t%s", st, rule
        split("auc group_auc group_sensitivity group_specificity", ms, " ")
        for (i = 1; i <= 4; ++i) { key = st SUBSEP ms[i]; printf "\t%.3f", c[key] ? m[key] / c[key] : -1 }
        printf "\n"
      }
    }' "$work/eval-$rule/metrics.tsv" | sort -t$'\t' -k1,1V
done
