#!/usr/bin/env bash
# One pass of GPU truth on a machine with an NVIDIA GPU: builds gantry with the CUDA backend, runs every
# CUDA test (`ctest -L cuda`: the CUDA instances of the unit suites and the GPU mixture-of-Gaussians run),
# then the kernel profiler and the MoG speed comparison against PyTorch, and writes a record (device, commit, pass/fail counts, the profiler table)
# into OUT_DIR (default bench/results/gpu-<date>). Each stage has its own time limit and a failing
# stage does not stop the later ones, so one call yields as much evidence as possible.
#   [OUT_DIR=dir] [KPROF_ARGS="--quick"] scripts/gpu-check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then export PATH="/usr/local/cuda/bin:$PATH"; fi
out="${OUT_DIR:-bench/results/gpu-$(date -u +%Y%m%d)}"
mkdir -p "$out"
record="$out/record.md"
jobs="$(nproc)"

stage() {  # stage NAME SECONDS COMMAND...: runs the command with a time limit, logging to $out/NAME.log
  local name="$1" limit="$2"; shift 2
  local start=$SECONDS
  timeout "$limit" "$@" >"$out/$name.log" 2>&1
  local rc=$?
  printf '| %s | %s | %ds |\n' "$name" "$([ $rc -eq 0 ] && echo ok || echo "exit $rc")" $((SECONDS - start)) >>"$record"
  return $rc
}

gpu="$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)"
{
  echo "# GPU check"
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "- device: ${gpu:-none found by nvidia-smi}"
  echo "- nvcc: $(nvcc --version 2>/dev/null | tail -1)"
  echo
  echo "| stage | result | time |"
  echo "|---|---|---|"
} >"$record"

stage configure 300 cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DGANTRY_CUDA=ON
stage build 900 cmake --build build-gpu -j"$jobs"
stage ctest_cuda 900 ctest --test-dir build-gpu -L cuda --output-on-failure --timeout 600
# The CUDA suites run as two ctest entries; their gtest output holds the per-test counts.
stage gtest_cuda_list 300 build-gpu/tests/gantry_unit_tests --gtest_filter='*cuda*:*CUDA*' --gtest_brief=1
stage kprof 900 build-gpu/tools/gantry-kprof --json "$out/kprof.json" ${KPROF_ARGS:-}
# The MoG training step on the GPU against eager PyTorch on the same GPU (PYTHON: an interpreter with torch).
stage mog_speed 600 env DEVICE=cuda ROUNDS=3 STEPS=600 RESULTS_DIR="$out" PYTHON="${PYTHON:-python3}" \
  bash bench/run_mog_bench.sh build-gpu
stage ctest_cpu 900 ctest --test-dir build-gpu -LE cuda -j"$jobs" --timeout 600

{
  echo
  echo "## CUDA tests"
  echo
  echo '```'
  grep -E "^\[  (PASSED|FAILED|SKIPPED) |tests passed|tests failed" "$out/ctest_cuda.log" "$out/gtest_cuda_list.log" 2>/dev/null | head -60
  echo '```'
  echo
  echo "## MoG training speed (gantry --device cuda vs eager PyTorch)"
  echo
  cat "$out/mog_steps_cuda.md" 2>/dev/null || tail -n 20 "$out/mog_speed.log"
  echo
  echo "## Kernel profiler"
  echo
  echo '```'
  tail -n 200 "$out/kprof.log" 2>/dev/null
  echo '```'
} >>"$record"
echo "gpu-check: record in $record"
