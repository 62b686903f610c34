#!/usr/bin/env bash
# Benchmarks of issue 11 (docs/BENCHMARKS.md, "Annotating new images"):
#   recipe   the default recipe's choice: AUC (evaluate) and localisation (annotate_localisation.py)
#            of ResNet50 res4f recipes on synthetic data with masks
#   groups   the group rule's choice: evaluate --level both with each rule
#   speed    annotate on 1,000 images vs extract alone on the same images (alternating, medians)
#   bundle   bundle size and load time: default recipe, and a paper-size layer (401,408 dims)
#   memory   peak RSS of annotate on 1,000 and 10,000 synthetic images (/usr/bin/time)
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
seconds() {
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >/dev/null
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'
}

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

speed() {  # one thread each: CPU seconds are comparable on a shared machine
  local syn=$work/syn1000
  synth "$syn" 1000
  [[ -f $work/m-default.h5 ]] || $bin --threads 1 train --data "$syn/images.csv" \
    --out "$work/m-default.h5" --keep-features 2>/dev/null
  for i in 1 2 3; do
    rm -f "$work/speed.h5"
    log "extract  run $i: $( { /usr/bin/time -f '%e s wall, %U s user, %S s sys, %M KB' \
      $bin --threads 1 extract --data "$syn/images.csv" --layers res4f --input-size native \
      --pool 4x10 --out "$work/speed.h5" >/dev/null; } 2>&1 | tail -1)"
    rm -rf "$work/speed-out"
    log "annotate run $i: $( { /usr/bin/time -f '%e s wall, %U s user, %S s sys, %M KB' \
      $bin --threads 1 annotate --model "$work/m-default.h5" --data "$syn/images.csv" \
      --out "$work/speed-out" >/dev/null; } 2>&1 | tail -1)"
  done
}

bundle() {  # size; load = annotate of one image with stored features (open, SHA-256, weights)
  local syn=$work/syn1000 m=$work/m-default.h5
  head -n 2 "$syn/images.csv" >"$syn/one.csv"
  log "default recipe bundle: $(stat -c %s "$m") bytes"
  for i in 1 2 3; do
    rm -rf "$work/one-out"
    log "load + annotate 1 image: $( { /usr/bin/time -f '%e s wall, %U s user, %M KB' \
      $bin --threads 1 annotate --model "$m" --data "$syn/one.csv" --features \
      "$m.features.h5" --out "$work/one-out" >/dev/null; } 2>&1 | tail -1)"
  done
  local paper=$work/paper
  [[ -f $paper/features.h5 ]] || $py "$here/make_synthetic_store.py" --images 1000 \
    --dim 401408 --out "$paper"
  for dtype in float32 float16; do
    local mp=$work/m-paper-$dtype.h5
    [[ -f $mp ]] || $bin --threads 1 train --data "$paper/images.csv" --features \
      "$paper/features.h5" --folds 0 --c-grid 1 --weights-dtype $dtype --out "$mp" 2>/dev/null
    log "paper-size bundle ($dtype; one stage range, 10 terms x 11 members x 401,408): \
$(stat -c %s "$mp") bytes"
    head -n 2 "$paper/images.csv" >"$paper/one.csv"
    for i in 1 2 3; do
      rm -rf "$work/paper-out"
      log "load + annotate 1 image: $( { /usr/bin/time -f '%e s wall, %U s user, %M KB' \
        $bin --threads 1 annotate --model "$mp" --data "$paper/one.csv" --features \
        "$paper/features.h5" --out "$work/paper-out" >/dev/null; } 2>&1 | tail -1)"
    done
  done
}

memory() {  # on the fly, default options: peak RSS must not grow with the number of images
  local big=$work/syn10000
  synth "$big" 10000 --stages 13-16
  head -n 1001 "$big/images.csv" >"$big/first1000.csv"
  for list in first1000 images; do
    rm -rf "$work/mem-$list"
    log "annotate $list: $( { /usr/bin/time -f '%e s wall, %U s user, %S s sys, %M KB peak RSS' \
      $bin --threads 1 annotate --model "$work/m-default.h5" --data "$big/$list.csv" \
      --out "$work/mem-$list" >/dev/null; } 2>&1 | tail -1)"
  done
}

for s in "${sections[@]}"; do
  log "== $s"
  "$s"
done
