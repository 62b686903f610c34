#!/usr/bin/env bash
# Times `ishannot report` on evaluate outputs of BDGP's size (two runs: TL with two layers, SC;
# 5 stage ranges with Table 1's image counts, 10 terms, 5 folds; bench/make_report_runs.py).
# Usage: bash bench/bench_report.sh [BUILD_DIR] [SCALE]      (numbers: docs/BENCHMARKS.md)
set -euo pipefail
build="${1:-build}"
scale="${2:-1.0}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 "$(dirname "${BASH_SOURCE[0]}")/make_report_runs.py" "$work" "$scale"
du -sh "$work"/eval-tl "$work"/eval-sc
/usr/bin/time -f "report: wall %e s, CPU %U s user + %S s system (node included), peak RSS %M KB" \
  "$build/ishannot" --quiet report --runs "$work/eval-tl" "$work/eval-sc" --out "$work/report" >/dev/null
ls -l "$work/report/index.html"
du -sh "$work/report/figures"
