#!/usr/bin/env bash
# The workflow's end-to-end check (issue 13), run by .ci/run after ctest:
#   1. `snakemake --lint` is clean (the default config, the tiny one, the tiny one with the report);
#   2. the tiny study (workflow/tiny.yaml: 300 synthetic images, 64x64, 1 epoch, 2 shards) runs
#      with --cores 2, is killed with SIGKILL (the whole process group, like a lost node) while
#      jobs are in flight, and resumes: --unlock, then --rerun-incomplete;
#   3. a further run has nothing to do (the finished run printed its report's path);
#   4. its evaluations equal those of the same study typed by hand (tests/workflow/hand_run.sh:
#      unsharded, no Snakemake) value for value, for TL, TL+MTL and SC.
# Usage: tests/workflow/check_tiny.sh [WORKDIR]   (default: a temp folder; the workflow's run is
# left in WORKDIR/local for tests/workflow/check_slurm.sh to compare with)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="${1:-$(mktemp -d /tmp/ishannot-workflow.XXXXXX)}"
bin="${ISHANNOT_BINARY:-$repo/build/ishannot}"
snakefile="$repo/workflow/Snakefile"
tiny="$repo/workflow/tiny.yaml"
log() { echo "[check_tiny $(date +%H:%M:%S)] $*" >&2; }
fail() { log "FAILED: $*"; exit 1; }
command -v snakemake > /dev/null || fail "snakemake is not installed (scripts/setup.sh installs it)"
[[ -x "$bin" ]] || fail "$bin is not built"

log "1. snakemake --lint"
snakemake -s "$snakefile" --lint > "$work.lint.log" 2>&1 || { cat "$work.lint.log"; fail "lint (config.yaml)"; }
snakemake -s "$snakefile" --configfile "$tiny" --lint > "$work.lint.log" 2>&1 ||
  { cat "$work.lint.log"; fail "lint (tiny.yaml)"; }
snakemake -s "$snakefile" --configfile "$tiny" --config report=true --lint > "$work.lint.log" 2>&1 ||
  { cat "$work.lint.log"; fail "lint (tiny.yaml, report: true)"; }
rm -f "$work.lint.log"

local_dir="$work/local"
out="$local_dir/ishannot-tiny"
rm -rf "$local_dir"
mkdir -p "$local_dir"
smk=(snakemake -s "$snakefile" --configfile "$tiny" --config "ishannot=$bin" -d "$local_dir" --cores 2)
start=$(date +%s)
log "2. the tiny study with --cores 2, killed once jobs are in flight"
setsid "${smk[@]}" > "$local_dir/run1.log" 2>&1 &
leader=$!
trap 'kill -KILL -- "-$leader" 2> /dev/null || true' EXIT  # never leave the run behind
killed=0
for _ in $(seq 1200); do
  if ! kill -0 "$leader" 2> /dev/null; then break; fi
  # Once a fine-tuned net exists, at the first moment a job is half-way through writing.
  in_flight=$( (find "$out" -name '*.partial' -o -name '*.checkpoint' 2> /dev/null || true) |
    sed "s|$out/||" | tr '\n' ' ')
  if [[ -n "$in_flight" ]] && compgen -G "$out/tl-mtl/*/model*.pt" > /dev/null; then
    kill -KILL -- "-$leader"
    killed=1
    log "killed (SIGKILL to process group $leader) while writing: $in_flight"
    break
  fi
  sleep 0.2
done
wait "$leader" 2> /dev/null || true
trap - EXIT
((killed)) || fail "the workflow ended before it could be killed (see $local_dir/run1.log)"
[[ ! -f "$out/summary.tsv" ]] || fail "summary.tsv exists after the kill"
"${smk[@]}" --unlock > "$local_dir/unlock.log" 2>&1 || fail "snakemake --unlock"
log "resuming"
"${smk[@]}" --rerun-incomplete > "$local_dir/run2.log" 2>&1 ||
  { tail -40 "$local_dir/run2.log"; fail "the resumed run failed (see $local_dir/run2.log)"; }
log "done in $(($(date +%s) - start)) s (kill and resume included); resumed state: $(grep -l 'resuming' -r "$out/logs" | sed "s|$out/logs/||" | tr '\n' ' ')"
[[ -f "$out/summary.tsv" && -f "$out/summary.md" ]] || fail "no summary after the resumed run"
# The run ends by naming what to open (workflow/Snakefile's onsuccess; issue 20).
grep -Eq "ishannot workflow done: (report $(cd "$out" && pwd)/report/index.html|summary $(cd "$out" && pwd)/summary.md)" \
  "$local_dir/run2.log" ||
  { tail -5 "$local_dir/run2.log"; fail "the finished run did not print its report's (or summary's) path"; }

log "3. nothing left to do"
"${smk[@]}" > "$local_dir/run3.log" 2>&1 || fail "the third run failed"
grep -q "Nothing to be done" "$local_dir/run3.log" || { cat "$local_dir/run3.log"; fail "a finished study was rerun"; }

log "4. the same study by hand (tests/workflow/hand_run.sh)"
start=$(date +%s)
rm -rf "$work/hand"
"$repo/tests/workflow/hand_run.sh" "$work/hand" "$bin" 2> "$work/hand.log" ||
  { tail -20 "$work/hand.log"; fail "the hand-run commands failed"; }
log "hand run: $(($(date +%s) - start)) s"
cmp "$work/hand/data/images.csv" "$out/data/images.csv" > /dev/null ||
  fail "the synthetic manifests differ"
python3 "$repo/tests/workflow/compare_evaluations.py" "$work/hand" "$out" ||
  fail "the workflow's evaluations differ from the hand-run commands'"
cat "$out/summary.md"
log "OK: lint clean, killed and resumed, nothing to redo, same numbers as by hand ($work)"
