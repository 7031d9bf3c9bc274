#!/bin/bash
# One full GAN training step of DCGAN 32x32 on the CPU, gantry vs PyTorch, both on one thread pinned to
# one core (taskset; OpenBLAS and torch thread counts set to 1), measured back to back in the same run.
# Each (case, batch) runs in its own process so peak RSS belongs to that case alone; gantry and PyTorch
# alternate for ROUNDS rounds so both see the same background load, and each figure is the median over
# rounds of the per-round medians. PyTorch is also run on every thread count up to the core count and
# its fastest is reported as a second reference. With CALLGRIND=1 it also counts the instructions of
# gantry's GanTrainer::step (valgrind callgrind, one warm-up and one counted step, batch 64), a figure
# that does not depend on the machine's load. Writes bench/results/image_step_cpu.{json,md}.
#   [ROUNDS=3] [STEPS=10] [CALLGRIND=1] bench/run_image_step_bench.sh [build-dir]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
rounds="${ROUNDS:-3}"
steps="${STEPS:-10}"
cases="${CASES:-dcgan32}"
batches="${BATCHES:-64 128}"
python="${PYTHON:-/usr/bin/python3}"  # an interpreter with torch (Debian's python3-torch)
results="${RESULTS_DIR:-$root/bench/results}"
cmake --build "$build" --target image_step_bench gantry >/dev/null
bench="$build/bench/image_step_bench"
cores="$(nproc)"
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
records="$(mktemp)"
trap 'rm -f "$records"' EXIT
for case_name in $cases; do
  for batch in $batches; do
    for _ in $(seq "$rounds"); do
      taskset -c 0 "$bench" --cases "$case_name" --batches "$batch" --steps "$steps" --threads 1 >>"$records"
      taskset -c 0 "$python" "$root/bench/image_step_torch.py" --cases "$case_name" --batches "$batch" \
        --steps "$steps" --threads 1 >>"$records"
    done
    for threads in $(seq 2 "$cores"); do
      OMP_NUM_THREADS="$threads" "$python" "$root/bench/image_step_torch.py" --cases "$case_name" \
        --batches "$batch" --steps "$steps" --threads "$threads" >>"$records"
    done
  done
done
callgrind_ir=""
if [ "${CALLGRIND:-0}" = 1 ]; then
  callgrind_ir="$("$root/bench/callgrind_count.sh" 'gantry::train::GanTrainer::step()' \
    "$bench" --cases dcgan32 --batches 64 --steps 1 --warmup 1 --threads 1)"
fi
RECORDS="$records" ROOT="$root" RESULTS="$results" BUILD="$build" CALLGRIND_IR="$callgrind_ir" ROUNDS="$rounds" \
  "$python" "$root/bench/image_step_report.py"
