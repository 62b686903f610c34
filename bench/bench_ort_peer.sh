#!/usr/bin/env bash
# End-to-end extraction, ishannot vs ONNX Runtime (issue 23's peer: what a user who wants fast CPU
# inference picks): whole processes, start-up + decode + forward + writing the features, on a
# folder of images at their native size, ResNet50 res4f, batch 8 on both sides.
#
#   bash bench/bench_ort_peer.sh [BUILD_DIR] [REPEAT=5] [CPUS="1 2"] [PRECISIONS="fp32"]
#
# The peer: bench/ort_peer.js (npm onnxruntime-node 1.22, CPU execution provider, graph
# optimisation "all", intra-op threads = CPUs; npm sharp decodes, the next batch decoded while one
# runs; raw float32 out) on the same network from the same weights, exported by
# ishannot_export_backbone (BatchNorm folded). ishannot: `extract --input-size native --batch 8
# --precision P` into HDF5, default --threads 0 (= the affinity mask), with
# ISHANNOT_CONV_ALGORITHM=$CONV (default winograd: its fastest fp32 mode; CONV=direct measures the
# default). CPUS = 1 pins both
# processes to CPU 0 (taskset -c 0), 2 to CPUs 0,1. The sides alternate (ours first on odd rounds),
# each run waits for a 1-minute load below LOAD_MAX (default 0.5; at most WAIT_MAX_S, default
# 600, then measures anyway and flags the run with '!'). Medians of REPEAT. Also checked: the
# features of the two sides (max |ours - peer| / max |peer|; < 1e-4 for fp32) and
# `ishannot --version` (median of 21 runs), and extract's time to its first batch (the first 16
# images, median of 5).
# Environment: IMAGES (default ../shared/data/bdgp-mini/images), LAYER (res4f), BATCH (8),
# WEIGHTS (default: the setup's ResNet50), ORT_NODE_MODULES, SHARP_NODE_MODULES (default: the
# setup's, `scripts/setup.sh --bench` installs sharp), PEER_HUGE_PAGES (default 1: the peer's
# malloc gets 2 MB pages too, glibc.malloc.hugetlb=1, as `ishannot` sets for itself; 0: glibc's
# default, what a user who does not know the tunable gets).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$here/build}"; repeat="${2:-5}"; cpus_list="${3:-1 2}"; precisions="${4:-fp32}"
images="${IMAGES:-$here/../shared/data/bdgp-mini/images}"
layer="${LAYER:-res4f}"; batch="${BATCH:-8}"
load_max="${LOAD_MAX:-0.5}"; wait_max="${WAIT_MAX_S:-600}"; libdir=/usr/lib/x86_64-linux-gnu
peer_env=()
[[ "${PEER_HUGE_PAGES:-1}" == 1 ]] && peer_env=(GLIBC_TUNABLES=glibc.malloc.hugetlb=1)
cache="${ISHANNOT_HOME:-$HOME/.cache/ishannot}"
weights="${WEIGHTS:-default}"
conv="${CONV:-winograd}"  # ishannot's fastest fp32 mode (docs/BACKBONES.md); CONV=direct: the default
ort_modules="${ORT_NODE_MODULES:-$cache/onnxruntime-1.22.0/node_modules}"
sharp_modules="${SHARP_NODE_MODULES:-$cache/sharp-0.34.5/node_modules}"
[[ -d "$images" ]] || { echo "no image folder $images (set IMAGES)" >&2; exit 1; }
[[ -d "$ort_modules/onnxruntime-node" ]] || { echo "no onnxruntime-node in $ort_modules (scripts/setup.sh)" >&2; exit 1; }
[[ -d "$sharp_modules/sharp" ]] || { echo "no sharp in $sharp_modules (scripts/setup.sh --bench)" >&2; exit 1; }
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
source "$here/bench/lib.sh"  # load1, wait_quiet, median

# The images' size (the first one's: --input-size native does the same) and the peer's graph.
first="$(find "$images" -maxdepth 1 -type f \( -name '*.png' -o -name '*.jpg' -o -name '*.tif' \) | sort | sed -n 1p)"
size="$(file -L "$first" | grep -o -E '[0-9]+ ?x ?[0-9]+' | tail -1 | tr -d ' ' | tr x ' ')"
read -r width height <<<"$size"
"$build/ishannot_export_backbone" "$weights" "$layer" "${width}x${height}" "$tmp/net.onnx"

# run SIDE CPUS PRECISION -> "wall cpu load"
run() {
  local side=$1 cpus=$2 precision=$3 mask=0 load cmd
  [[ $cpus == 2 ]] && mask=0,1
  load=$(wait_quiet)
  if [[ $side == ours ]]; then
    rm -f "$tmp/ours.h5" "$tmp/ours.h5.partial"
    cmd=(env ISHANNOT_CONV_ALGORITHM="$conv" "$build/ishannot" --threads 0 --quiet extract --data "$images" --out "$tmp/ours.h5"
         --layers "$layer" --input-size native --batch "$batch" --precision "$precision")
    [[ $weights == default ]] || cmd+=(--weights "$weights")
  else
    rm -f "$tmp/peer.f32"
    cmd=(env "${peer_env[@]}" NODE_PATH="$ort_modules:$sharp_modules" UV_THREADPOOL_SIZE="$cpus" node
         "$here/bench/ort_peer.js" "$tmp/net.onnx" "$images" "$width" "$height" "$batch" "$cpus"
         "$tmp/peer.f32" "$tmp/peer.ids")
  fi
  /usr/bin/time -f '%e %U %S' -o "$tmp/time" taskset -c "$mask" "${cmd[@]}" >/dev/null 2>"$tmp/err" ||
    { echo "FAIL: $side ($cpus CPUs, $precision):" >&2; tail -3 "$tmp/err" >&2; exit 1; }
  awk -v load="$load" '{printf "%s %.2f %s\n", $1, $2 + $3, load}' "$tmp/time"
}

features_check() {  # PRECISION
  /usr/bin/python3 - "$tmp/ours.h5" "$tmp/peer.f32" "$tmp/peer.ids" "$layer" "$1" <<'PY'
import sys, h5py, numpy as np
ours, peer, ids, layer, precision = sys.argv[1:6]
with h5py.File(ours) as f:
    a = f["features/" + layer][:].astype(np.float32)
    our_ids = [x.decode() if isinstance(x, bytes) else x for x in f["ids"][:]]
b = np.fromfile(peer, dtype=np.float32).reshape(a.shape)
peer_ids = open(ids).read().split()
same = [i.split("/")[-1].rsplit(".", 1)[0] for i in our_ids] == peer_ids
err = float(np.abs(a - b).max() / np.abs(b).max())
rel = float(np.linalg.norm(a - b) / np.linalg.norm(b))
bound = 1e-4 if precision == "fp32" else 0.05
ok = same and err < bound if precision == "fp32" else same and rel < bound
print(f"#   features ({precision}): {layer} {a.shape}, ids {'equal' if same else 'DIFFER'}, "
      f"max|ours - ORT fp32| / max|ORT| = {err:.2e}, ||ours - ORT|| / ||ORT|| = {rel:.2e} "
      f"({'ok' if ok else 'FAIL'})")
PY
}

echo "# $(date -u +%FT%TZ) $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs;" \
  "flags: $(grep -o -w -E 'avx512f|avx512_bf16|avx2|fma|amx_tile|amx_bf16' /proc/cpuinfo | sort -u | tr '\n' ' ')"
echo "# ishannot $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo ?); peer: onnxruntime-node" \
  "$(node -e "console.log(require('$ort_modules/onnxruntime-node/package.json').version)") + sharp" \
  "$(node -e "console.log(require('$sharp_modules/sharp/package.json').version)"); $(ls "$images" | wc -l) images" \
  "at ${width}x${height}, $layer, batch $batch"
for ((i = 0; i < 21; i++)); do
  /usr/bin/time -f '%e' -a -o "$tmp/version" "$build/ishannot" --version >/dev/null
done
echo "# the peer's malloc: ${peer_env[*]:-the default (PEER_HUGE_PAGES=0)}"
echo "# ishannot --version: median $(median <"$tmp/version") s of 21 runs"
printf '| CPUs | ishannot precision | ishannot wall s (CPU s) | ORT fp32 wall s (CPU s) | ORT / ishannot | load at start (ours; ORT) |\n'
printf '|---|---|---|---|---|---|\n'
for cpus in $cpus_list; do
  for precision in $precisions; do
    : >"$tmp/ours.txt"; : >"$tmp/peer.txt"
    run ours "$cpus" "$precision" >/dev/null  # untimed: the weights caches warm, as after a first run
    for ((r = 1; r <= repeat; r++)); do
      if ((r % 2)); then order="ours peer"; else order="peer ours"; fi
      for side in $order; do run "$side" "$cpus" "$precision" >>"$tmp/$side.txt"; done
    done
    ow=$(cut -d' ' -f1 "$tmp/ours.txt" | median); oc=$(cut -d' ' -f2 "$tmp/ours.txt" | median)
    pw=$(cut -d' ' -f1 "$tmp/peer.txt" | median); pc=$(cut -d' ' -f2 "$tmp/peer.txt" | median)
    ol=$(cut -d' ' -f3 "$tmp/ours.txt" | paste -sd,); pl=$(cut -d' ' -f3 "$tmp/peer.txt" | paste -sd,)
    printf '| %s | %s | %.2f (%.2f) | %.2f (%.2f) | **%.2fx** | %s; %s |\n' "$cpus" "$precision" \
      "$ow" "$oc" "$pw" "$pc" "$(awk -v a="$pw" -v b="$ow" 'BEGIN{print a / b}')" "$ol" "$pl"
    echo "#   raw ours (wall cpu load): $(paste -sd'|' "$tmp/ours.txt"); ORT: $(paste -sd'|' "$tmp/peer.txt")"
    features_check "$precision"  # the last round's outputs
  done
done

# Time to the first batch: extract's last line gives it (from the process's start to the end of
# its first forward pass, caches warm), here on a folder of the first 16 images, median of 5.
mkdir -p "$tmp/first"
find "$images" -maxdepth 1 -type f \( -name '*.png' -o -name '*.jpg' -o -name '*.tif' \) | sort |
  sed -n 1,16p | while read -r f; do ln -s "$(realpath "$f")" "$tmp/first/"; done
for cpus in $cpus_list; do
  mask=0; [[ $cpus == 2 ]] && mask=0,1
  for precision in $precisions; do
    : >"$tmp/first.txt"
    cmd=(env ISHANNOT_CONV_ALGORITHM="$conv" "$build/ishannot" --threads 0 extract --data "$tmp/first"
         --out "$tmp/first.h5" --layers "$layer" --input-size native --batch "$batch" --precision "$precision")
    [[ $weights == default ]] || cmd+=(--weights "$weights")
    for ((r = 1; r <= 5; r++)); do
      rm -f "$tmp/first.h5"
      taskset -c "$mask" "${cmd[@]}" 2>&1 >/dev/null |
        sed -n 's/.*(first batch done \([0-9.]*\) s after the process started).*/\1/p' >>"$tmp/first.txt"
    done
    if (($(wc -l <"$tmp/first.txt") != 5)); then  # extract's last line no longer says it
      echo "FAIL: time to the first batch ($cpus CPUs, $precision): read $(wc -l <"$tmp/first.txt") of 5 runs" >&2
      exit 1
    fi
    echo "# time to the first batch ($cpus CPUs, $precision): median $(median <"$tmp/first.txt") s" \
      "of 5 (runs: $(paste -sd' ' "$tmp/first.txt"))"
  done
done
