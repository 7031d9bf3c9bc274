#!/bin/bash
# The mixture-of-Gaussians Table-1 reproduction: 3 mode counts x baseline/top-k/core-set/both x 3 seeds,
# 100k steps each (about 21-26 minutes per run on one core; ~15 CPU-hours in all). Resumable: run it again
# and finished runs are kept, interrupted ones continue from their checkpoints. At low CPU priority, so
# it can share a machine. Writes bench/results/mog-table1/summary.{json,md} when all runs are done;
# `SUMMARY_ONLY=1` summarises the runs finished so far without training (refused while the grid runs:
# its folder is locked; Ctrl-C stops the grid and writes the same summary).
#   [JOBS=2] [SUMMARY_ONLY=1] bench/run_table1_grid.sh [build-dir]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
[ -x "$build/gantry" ] || { echo "run_table1_grid: $build/gantry not found; build first (scripts/build.sh)" >&2; exit 1; }
# The grid's children re-run the binary it was started from: a private copy keeps a rebuild during the
# grid from pulling the binary out from under them.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
bin="$tmp/gantry"
cp "$build/gantry" "$bin"
args=(mog grid --modes 25,64,100 --methods baseline,topk,coreset,both --seeds 3 --jobs "${JOBS:-2}"
      --steps 100000 --out bench/results/mog-table1)
if [ "${SUMMARY_ONLY:-0}" = 1 ]; then args+=(--summary-only); fi
cd "$root"
nice -n 19 "$bin" "${args[@]}"
