#!/usr/bin/env bash
# Per-unit costs for docs/SCALING.md, on this machine, one thread per step (the reliable figure on
# a shared machine; CPU seconds are reported beside wall seconds):
#   extraction (end to end: PNG decode, resize, forward, HDF5 write) per layer set, size and dtype,
#   feature-store bytes per image, merge throughput, fine-tuning per image-epoch, SC coding per
#   image, evaluate's Gram per N^2 D and its classifiers, peak memory of each.
# Usage: bench/scaling.sh [WORKDIR] [IMAGES]   (defaults /tmp/ishannot-scaling, 200)
# Needs /usr/bin/time (Debian package `time`; setup.sh --bench) and python3-h5py/numpy.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-/tmp/ishannot-scaling}"
images="${2:-200}"
bin="$here/build/ishannot"
B=("$bin" --threads 1 --quiet)
mkdir -p "$work"
cd "$work"
measure() {  # NAME COMMAND...: one TSV line: name, wall s, CPU s, peak RSS MB
  local name="$1"
  shift
  /usr/bin/time -f "%e %U %S %M" -o "$work/time.txt" "$@" > /dev/null
  read -r wall user sys rss < "$work/time.txt"
  awk -v n="$name" -v w="$wall" -v u="$user" -v s="$sys" -v m="$rss" \
    'BEGIN { printf "%s\t%s\t%.2f\t%d\n", n, w, u + s, m / 1024 }'
}
echo "# $(date -Is) $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $images images"
printf 'step\twall_s\tcpu_s\tpeak_rss_mb\n'
[[ -f syn/images.csv ]] || "${B[@]}" synth --out syn --images "$images" --stages 13-16 > /dev/null
data=syn/images.csv
rm -f ./*.h5 ./*.partial
measure "extract res3d,res4f,res5c 224 pool4x4 f32" "${B[@]}" extract --data $data \
  --layers res3d,res4f,res5c --pool 4x4 --out tl3.h5
measure "extract res4f 224 flat f16" "${B[@]}" extract --data $data --layers res4f \
  --dtype float16 --out res4f_flat16.h5
measure "extract res4f 224 flat f32" "${B[@]}" extract --data $data --layers res4f \
  --out res4f_flat32.h5
measure "extract res4f,res5c 112 pool4x4 f32" "${B[@]}" extract --data $data \
  --layers res4f,res5c --input-size 112x112 --pool 4x4 --out ft112.h5
for f in tl3 res4f_flat16 res4f_flat32 ft112; do
  echo "# $f.h5: $(stat -c %s $f.h5) bytes, $((($(stat -c %s $f.h5)) / images)) bytes/image"
done
for i in 0 1 2 3; do
  "${B[@]}" extract --data $data --layers res4f --dtype float16 --shard $i/4 --out shard$i.h5
done
measure "merge 4 shards res4f flat f16" "${B[@]}" merge shard0.h5 shard1.h5 shard2.h5 shard3.h5 \
  --out merged.h5
rm -rf ft.pt*
measure "finetune 112 freeze res4f 1 epoch" "${B[@]}" finetune --data $data --stage 13-16 \
  --input-size 112x112 --freeze-through res4f --epochs 1 --patience 1 --out ft.pt
echo "# finetune curve: $(tail -1 ft.pt.curve.tsv)"
head -1 ft.pt.curve.tsv | sed 's/^/# finetune curve columns: /'
rm -rf ft3d.pt*
measure "finetune 112 freeze res3d 1 epoch" "${B[@]}" finetune --data $data --stage 13-16 \
  --input-size 112x112 --freeze-through res3d --epochs 1 --patience 1 --out ft3d.pt
echo "# finetune res3d curve: $(tail -1 ft3d.pt.curve.tsv)"
measure "baseline K=1024 (dictionary + coding)" "${B[@]}" baseline --data $data --out sc.h5
measure "evaluate tl3 (3 layers + concat), 5 folds" "${B[@]}" evaluate --data $data \
  --features tl3.h5 --out eval-tl3
/usr/bin/python3 - eval-tl3/run.json << 'PY'
import json, sys
s = json.load(open(sys.argv[1]))["seconds"]
for k, v in sorted(s.items()):
    print(f"# evaluate seconds {k}: {v:.3f}")
PY
# The Gram route at larger N: BDGP-shaped float16 stores (bench/make_synthetic_store.py), fixed C
# (no inner CV), one member: the Gram dominates; seconds per N^2 D from run.json.
for n in 2000 4000; do
  [[ -f gram$n/features.h5 ]] || /usr/bin/python3 "$here/bench/make_synthetic_store.py" \
    --images $n --dim 57344 --out gram$n > /dev/null
  measure "evaluate N=$n D=57344 f16, C=1, M=1, 5 folds" "${B[@]}" evaluate \
    --data gram$n/images.csv --features gram$n/features.h5 --c-grid 1 --models 1 --out eval-gram$n
  /usr/bin/python3 - eval-gram$n/run.json $n << 'PY'
import json, sys
s = json.load(open(sys.argv[1]))["seconds"]
n, d = int(sys.argv[2]), 57344
for k, v in sorted(s.items()):
    extra = f" = {v / (n * n * d) * 1e12:.2f} s per 1e12 N^2 D" if k.startswith("gram/") else ""
    print(f"# N={n} evaluate seconds {k}: {v:.3f}{extra}")
PY
done
