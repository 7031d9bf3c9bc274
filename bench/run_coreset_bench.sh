#!/bin/bash
# Core-set timing (Small-GAN Table 5 style) and greedy k-center's time per step on the CPU, one BLAS
# thread. Writes bench/results/coreset_timing.{json,md} with the machine, date and commit.
#   [STEPS=50] [BATCHES=64,128,256,512] bench/run_coreset_bench.sh [build-dir]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
results="${RESULTS_DIR:-$root/bench/results}"
cmake --build "$build" --target coreset_bench >/dev/null
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
mkdir -p "$results"
"$build/bench/coreset_bench" --steps "${STEPS:-50}" --batches "${BATCHES:-64,128,256,512}" --threads 1 \
  --results "$results" --commit "$(git -C "$root" rev-parse --short HEAD)" --date "$(date -u +%Y-%m-%d)" >/dev/null
cat "$results/coreset_timing.md"
