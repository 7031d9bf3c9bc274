#!/bin/bash
# FID Inception-v3 feature extraction on the CPU, gantry vs PyTorch in the same run: the full network
# with the random weights of tests/data/fid_inception_random_legacy.pth on 32x32 images (resized to
# 299x299 inside), batches of 50 (pytorch-fid's default) and 16, on 1 and 2 threads. Each side runs
# pinned (taskset to the first T cores; OpenBLAS, OpenMP and torch thread counts set to T) in its own
# process, gantry and PyTorch (unfused conv + BatchNorm + ReLU as pytorch-fid runs it, and BatchNorm
# folded into the convolutions like gantry) back to back for ROUNDS rounds, so all see the same
# background load; each figure is the median over rounds of each process's median over REPEATS timed
# batches after WARMUP untimed ones. With CALLGRIND=1 it also counts the instructions of one gantry
# forward pass of one image (valgrind callgrind), a figure that does not depend on the load.
# Writes bench/results/inception_speed_cpu.{json,md}.
#   [ROUNDS=1] [REPEATS=3] [WARMUP=1] [BATCHES="50 16"] [THREADS="1 2"] [CALLGRIND=1]
#   bench/run_inception_bench.sh [build-dir]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
rounds="${ROUNDS:-1}"
repeats="${REPEATS:-3}"
warmup="${WARMUP:-1}"
batches="${BATCHES:-50 16}"
thread_counts="${THREADS:-1 2}"
python="${PYTHON:-/usr/bin/python3}"  # an interpreter with torch (Debian's python3-torch)
results="${RESULTS_DIR:-$root/bench/results}"
weights="$root/tests/data/fid_inception_random_legacy.pth"
cmake --build "$build" --target inception_bench gantry >/dev/null
bench="$build/bench/inception_bench"
load_start="$(cut -d' ' -f1 /proc/loadavg)"
records="$(mktemp)"
trap 'rm -f "$records"' EXIT
common=(--weights "$weights" --size 32 --repeats "$repeats" --warmup "$warmup")
for batch in $batches; do
  for threads in $thread_counts; do
    cores="0-$((threads - 1))"
    export OPENBLAS_NUM_THREADS="$threads" OMP_NUM_THREADS="$threads" MKL_NUM_THREADS="$threads"
    for _ in $(seq "$rounds"); do
      taskset -c "$cores" "$bench" "${common[@]}" --batches "$batch" --threads "$threads" >>"$records"
      for variant in unfused folded; do
        taskset -c "$cores" "$python" "$root/bench/inception_torch.py" "${common[@]}" --batches "$batch" \
          --threads "$threads" --variants "$variant" >>"$records"
      done
    done
  done
done
callgrind_ir=""
if [ "${CALLGRIND:-0}" = 1 ]; then
  out="$(mktemp)"
  OPENBLAS_NUM_THREADS=1 valgrind --tool=callgrind --callgrind-out-file="$out" \
    --toggle-collect='gantry::models::FidInceptionV3::features*' \
    "$bench" --weights "$weights" --batches 1 --repeats 1 --warmup 0 --threads 1 >/dev/null 2>&1
  callgrind_ir="$(callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')"
  rm -f "$out"
fi
LOAD_START="$load_start" RECORDS="$records" ROOT="$root" RESULTS="$results" BUILD="$build" \
  CALLGRIND_IR="$callgrind_ir" ROUNDS="$rounds" \
  COMMAND="ROUNDS=$rounds REPEATS=$repeats WARMUP=$warmup BATCHES=\"$batches\" THREADS=\"$thread_counts\" bench/run_inception_bench.sh $*" \
  "$python" "$root/bench/inception_report.py"
