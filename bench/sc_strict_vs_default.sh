#!/usr/bin/env bash
# Does the default (unsupervised, all-images) SC dictionary gain anything over the strict one
# learned from each outer fold's training genes only? Same folds, same evaluation, layer sc_max.
# Usage: bench/sc_strict_vs_default.sh BUILD_DIR DATA_CSV STAGE WORK_DIR [FOLDS]
# Prints the mean AUC over terms (per-term mean over folds) of both; single-threaded.
set -euo pipefail
build=$1; data=$2; stage=$3; work=$4; folds=${5:-5}
bin="$build/ishannot"
run="$bin --threads 1 --quiet --seed 1234"
mkdir -p "$work"
eval_opts=(--data "$data" --stages "$stage" --layers sc_max --no-concat --folds "$folds" --method SC)
$run baseline --data "$data" --stages "$stage" --pooling max --out "$work/default.h5"
$run evaluate "${eval_opts[@]}" --features "$work/default.h5" --out "$work/eval_default"
for ((k = 0; k < folds; ++k)); do
  $run baseline --data "$data" --stages "$stage" --pooling max --fold "$k/$folds" --out "$work/fold$k.h5"
done
# Strict mode: fold k reads store k (its dictionary never saw fold k's test genes).
$run evaluate "${eval_opts[@]}" --fold-features "$work/fold{fold}.h5" --out "$work/eval_strict"
# Mean AUC over terms of the per-term mean over folds.
mean_auc() {
  # metrics.tsv: method layer stage_range stage_order term fold metric value
  awk -F'\t' '$7 == "auc" { s[$5] += $8; n[$5]++ }
    END { for (t in s) { m += s[t] / n[t]; c++ } printf "%.4f over %d terms\n", m / c, c }'
}
echo "default (dictionary from all images): $(tail -n +2 "$work/eval_default/metrics.tsv" | mean_auc)"
echo "strict  (dictionary from each fold's training genes): $(tail -n +2 "$work/eval_strict/metrics.tsv" | mean_auc)"
