#!/usr/bin/env bash
# The tiny study (workflow/tiny.yaml) typed by hand, as the reference the workflow must reproduce:
# the same settings, but no Snakemake, one unsharded TL extraction, the fine-tuned nets' features
# extracted for every image (not just their stage range's), and each method evaluated over both
# stage ranges in one call. Usage: tests/workflow/hand_run.sh WORKDIR [ISHANNOT_BINARY]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$1"
bin="${2:-$here/build/ishannot}"
B=("$bin" --seed 1234 --threads 1 --quiet)
stages=11-12,13-16
folds=3
protocol=(--stages "$stages" --folds "$folds" --models 3 --inner-folds 2 --c-grid 0.1,1,10)
mkdir -p "$work"
"${B[@]}" synth --out "$work/data" --images 300 --stages "$stages" > /dev/null
data="$work/data/images.csv"
"${B[@]}" extract --data "$data" --layers res4f,res5c --stages "$stages" --input-size 64x64 \
  --pool 2x2 --batch 16 --out "$work/tl.h5"
for stage in 11-12 13-16; do
  mkdir -p "$work/ft/$stage"
  for ((f = 0; f < folds; f++)); do
    "${B[@]}" finetune --data "$data" --stage "$stage" --fold "$f/$folds" --input-size 64x64 \
      --freeze-through res4f --epochs 1 --patience 1 --out "$work/ft/$stage/m$f.pt"
    "${B[@]}" extract --data "$data" --model "$work/ft/$stage/m$f.pt" --layers res4f,res5c \
      --pool 2x2 --batch 16 --out "$work/ft/$stage/f$f.h5"
  done
done
"${B[@]}" baseline --data "$data" --stages "$stages" --atoms 64 --dictionary-images 100 \
  --descriptors-per-image 50 --out "$work/sc.h5"
"${B[@]}" evaluate --data "$data" --features "$work/tl.h5" "${protocol[@]}" --method TL \
  --out "$work/eval/tl" > /dev/null
"${B[@]}" evaluate --data "$data" --fold-features "$work/ft/{stage}/f{fold}.h5" "${protocol[@]}" \
  --method TL+MTL --out "$work/eval/tl-mtl" > /dev/null
"${B[@]}" evaluate --data "$data" --features "$work/sc.h5" --layers sc_max "${protocol[@]}" \
  --method SC --out "$work/eval/sc" > /dev/null
