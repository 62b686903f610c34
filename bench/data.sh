#!/bin/sh
# Benchmark of the data module (docs/bench/data.md): time and peak memory (GNU time) to read the
# BDGP tables and to generate 7,580 synthetic images (the size of stage range 13-16).
# Usage: bench/data.sh [BUILD_DIR] [BDGP_META_DIR]   (run from the repository root)
set -eu
build=${1:-build}
meta=${2:-../shared/data/bdgp-meta}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
measure() {  # label, command...
  label=$1
  shift
  /usr/bin/time -f "%e %U %S %M" -o "$out/time" "$@" >/dev/null 2>&1
  set -- $(cat "$out/time")
  printf '%-44s wall %7.2f s  cpu %7.2f s  peak %6.1f MiB\n' "$label" "$1" \
    "$(echo "$2 + $3" | bc -l)" "$(echo "$4 / 1024" | bc -l)"
}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
measure "dataset --data bdgp-meta (read + Table 1)" "$build/ishannot" --quiet dataset --data "$meta"
measure "synth 7580 images 13-16, 1 thread" "$build/ishannot" --quiet --threads 1 synth \
  --out "$out/s1" --images 7580 --stages 13-16
measure "synth 7580 images 13-16, 2 threads" "$build/ishannot" --quiet --threads 2 synth \
  --out "$out/s2" --images 7580 --stages 13-16
measure "synth --like 7580 images 13-16, 2 threads" "$build/ishannot" --quiet --threads 2 synth \
  --out "$out/s3" --images 7580 --stages 13-16 --like "$meta"
echo "output size (7580 images): $(du -sh "$out/s2" | cut -f1)"
cmp -s "$out/s1/images.csv" "$out/s2/images.csv" && echo "1-thread and 2-thread manifests identical"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
