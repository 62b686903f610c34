#!/usr/bin/env bash
# Benchmarks of issue 11 (docs/BENCHMARKS.md, "Annotating new images"):
#   recipe   the default recipe's choice: AUC (evaluate) and localisation (annotate_localisation.py)
#            of ResNet50 res4f recipes on synthetic data with masks
#   groups   the group rule's choice: evaluate --level both with each rule
#   speed    annotate on 1,000 images vs extract alone on the same images (alternating, medians)
#   bundle   bundle size and load time: default recipe, and a paper-size layer (401,408 dims)
#   memory   peak RSS of annotate on 1,000 and 10,000 images (/usr/bin/time -v)
# Usage: bash bench/annotate_bench.sh BUILD_DIR WORK_DIR [recipe|groups|speed|bundle|memory]...
# The machine is shared: run at quiet moments (uptime load < 0.3) and read the medians.
set -euo pipefail
build="$(cd "${1:?build dir}" && pwd)"
work="${2:?work dir}"
shift 2
sections=("$@")
((${#sections[@]})) || sections=(recipe groups speed bundle memory)
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin="$build/ishannot --quiet"
py=/usr/bin/python3
mkdir -p "$work"
log() { echo "[$(date +%H:%M:%S) load $(cut -d' ' -f1 /proc/loadavg)] $*"; }
seconds() { local t0=$(date +%s.%N); "$@" >/dev/null; echo "$(date +%s.%N) - $t0" | bc; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2)}'; }

synth() {  # synth DIR IMAGES [extra options]
  local dir=$1 n=$2
  shift 2
  [[ -f $dir/images.csv ]] || $bin synth --out "$dir" --images "$n" --masks "$@" >/dev/null
}

recipe() {
  local syn=$work/syn2000
  synth "$syn" 2000
  # name | extract options (all ResNet50 res4f)
  local recipes=("native-2x5|--input-size native --pool 2x5"
    "native-4x10|--input-size native --pool 4x10"
    "native-8x20|--input-size native --pool none"
    "224-4x4|--input-size 224x224 --pool 4x4"
    "native-global|--input-size native --pool 1x1")
  for r in "${recipes[@]}"; do
    local name=${r%%|*} options=${r#*|}
    local store=$work/recipe-$name.h5
    [[ -f $store ]] || $bin extract --data "$syn/images.csv" --layers res4f $options \
      --dtype float16 --out "$store"
    log "recipe $name: $(du -h "$store" | cut -f1)"
    $bin evaluate --data "$syn/images.csv" --features "$store" --out "$work/eval-$name" \
      | grep '^| auc'
    $bin train --data "$syn/images.csv" --features "$store" --fold 0/5 --out "$work/m-$name.h5" \
      2>/dev/null
    $py "$here/annotate_localisation.py" "$work/m-$name.h5" "$store" "$syn"
  done
}

groups() {
  local syn=$work/syn2000 store=$work/recipe-native-4x10.h5
  for rule in mean max votes; do
    $bin evaluate --data "$syn/images.csv" --features "$store" --level both --group-rule $rule \
      --out "$work/groups-$rule" | grep -E '^\| (group )?auc'
  done
}

speed() {
  local syn=$work/syn1000
  synth "$syn" 1000
  [[ -f $work/m-default.h5 ]] || $bin train --data "$syn/images.csv" --out "$work/m-default.h5" \
    --keep-features 2>/dev/null
  local e=() a=()
  for i in 1 2 3; do
    rm -f "$work/speed.h5"
    e+=("$(seconds $bin extract --data "$syn/images.csv" --layers res4f --input-size native \
      --pool 4x10 --out "$work/speed.h5")")
    rm -rf "$work/speed-out"
    a+=("$(seconds $bin annotate --model "$work/m-default.h5" --data "$syn/images.csv" \
      --out "$work/speed-out")")
    log "run $i: extract ${e[-1]} s, annotate ${a[-1]} s"
  done
  log "median extract $(printf '%s\n' "${e[@]}" | median) s, annotate $(printf '%s\n' "${a[@]}" | median) s"
}

bundle() {
  local m=$work/m-default.h5
  log "default recipe bundle: $(stat -c %s "$m") bytes"
  for i in 1 2 3; do
    log "load (read + weights of every stage): $(seconds $py -c "
import h5py
f = h5py.File('$m', 'r')
for s in f['stages']: f['stages'][s]['weights'][:]
") s (h5py)"
  done
  local paper=$work/paper
  [[ -f $paper/features.h5 ]] || $py "$here/make_synthetic_store.py" --images 1000 \
    --dim 401408 --out "$paper"
  [[ -f $work/m-paper.h5 ]] || $bin train --data "$paper/images.csv" --features \
    "$paper/features.h5" --folds 0 --c-grid 1 --out "$work/m-paper.h5" 2>/dev/null
  [[ -f $work/m-paper16.h5 ]] || $bin train --data "$paper/images.csv" --features \
    "$paper/features.h5" --folds 0 --c-grid 1 --dtype float16 --out "$work/m-paper16.h5" \
    2>/dev/null
  log "paper-size bundle (one stage range, 10 terms x 11 members x 401,408): float32 \
$(stat -c %s "$work/m-paper.h5") bytes, float16 $(stat -c %s "$work/m-paper16.h5") bytes"
  for i in 1 2 3; do
    rm -rf "$work/paper-out"
    log "annotate 100 images with the paper-size bundle: $(seconds $bin annotate --model \
      "$work/m-paper.h5" --data "$paper/images.csv" --features "$paper/features.h5" \
      --heatmaps 0 --out "$work/paper-out") s"
  done
}

memory() {
  local syn=$work/syn1000
  rm -rf "$work/mem-out"
  /usr/bin/time -v $bin annotate --model "$work/m-default.h5" --data "$syn/images.csv" \
    --out "$work/mem-out" 2>&1 | grep -E 'Maximum resident|Elapsed'
  local big=$work/syn10000
  synth "$big" 10000 --stages 13-16
  [[ -f $work/big.h5 ]] || $bin extract --data "$big/images.csv" --layers res4f \
    --input-size native --pool 4x10 --dtype float16 --out "$work/big.h5"
  for n in 1000 10000; do
    head -n $((n + 1)) "$big/images.csv" >"$big/first$n.csv"
    rm -rf "$work/mem-$n"
    /usr/bin/time -v $bin annotate --model "$work/m-default.h5" --data "$big/first$n.csv" \
      --features "$work/big.h5" --out "$work/mem-$n" 2>&1 | grep -E 'Maximum resident|Elapsed' \
      | sed "s/^/$n images: /"
  done
}

for s in "${sections[@]}"; do
  log "== $s"
  "$s"
done
