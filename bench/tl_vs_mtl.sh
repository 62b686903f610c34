#!/usr/bin/env bash
# TL vs TL+MTL through `evaluate` on identical folds (docs/bench/finetune.md, issue 5).
# Usage: bench/tl_vs_mtl.sh [WORKDIR] [IMAGES] [FOLDS] [SIZE] [FREEZE]
#   defaults: /tmp/ishannot-tl-vs-mtl, 1000 synthetic images of stage 13-16, 5 folds,
#   112x112 input, trunk frozen through res4f (res5a-c + the head are fine-tuned).
# For every outer fold F: fine-tune on fold F's training genes only (--fold F/K, the folds
# evaluate uses), extract the same layers from that net for every image, then evaluate reads fold
# F's store for fold F (--fold-features). TL uses the ImageNet net for every fold.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-/tmp/ishannot-tl-vs-mtl}"
images="${2:-1000}"
folds="${3:-5}"
size="${4:-112x112}"
freeze="${5:-res4f}"
bin="$here/build/ishannot"
layers=res4f,res5c
stage=13-16
mkdir -p "$work/ft"
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

if [[ ! -f "$work/data/images.csv" ]]; then
  log "synthetic stage $stage: $images images"
  "$bin" --progress plain synth --out "$work/data" --images "$images" --stages "$stage"
fi
data="$work/data/images.csv"
if [[ ! -f "$work/tl.h5" ]]; then
  log "TL features"
  "$bin" --progress plain extract --data "$data" --layers "$layers" --input-size "$size" \
    --pool 4x4 --out "$work/tl.h5"
fi
for ((f = 0; f < folds; f++)); do
  if [[ ! -f "$work/ft/m$f.pt" ]]; then
    log "fine-tuning fold $f/$folds"
    resume=()
    [[ -f "$work/ft/m$f.pt.checkpoint" ]] && resume=(--resume)
    "$bin" --progress plain finetune --data "$data" --stage "$stage" --fold "$f/$folds" \
      --input-size "$size" --freeze-through "$freeze" --epochs 15 --patience 4 \
      --out "$work/ft/m$f.pt" "${resume[@]}" 2> "$work/ft/m$f.log"
  fi
  if [[ ! -f "$work/ft/f$f.h5" ]]; then
    log "TL+MTL features of fold $f"
    "$bin" --progress plain extract --data "$data" --model "$work/ft/m$f.pt" --layers "$layers" \
      --pool 4x4 --out "$work/ft/f$f.h5"
  fi
done
log "evaluate TL"
"$bin" --progress plain evaluate --data "$data" --features "$work/tl.h5" --stages "$stage" \
  --folds "$folds" --method TL --out "$work/eval-tl" > "$work/eval-tl.md"
log "evaluate TL+MTL"
"$bin" --progress plain evaluate --data "$data" --fold-features "$work/ft/f{fold}.h5" \
  --stages "$stage" --folds "$folds" --method TL+MTL --out "$work/eval-mtl" > "$work/eval-mtl.md"
# Same folds: every image has the same fold in both runs.
python3 - "$work" <<'PY'
import csv, sys, collections
w = sys.argv[1]
def folds(d):
    with open(f"{w}/{d}/predictions.tsv") as f:
        return {(r["id"]): r["fold"] for r in csv.DictReader(f, delimiter="\t")}
a, b = folds("eval-tl"), folds("eval-mtl")
assert a == b, "folds differ between TL and TL+MTL"
print(f"identical folds: {len(a)} images")
for d in ("eval-tl", "eval-mtl"):
    auc = collections.defaultdict(list)
    with open(f"{w}/{d}/metrics.tsv") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            if r["metric"] == "auc":
                auc[r["layer"]].append(float(r["value"]))
    for layer, v in auc.items():
        print(f"{d}\t{layer}\tmean AUC over term-folds {sum(v) / len(v):.4f} ({len(v)})")
PY
cat "$work/eval-tl.md" "$work/eval-mtl.md"
