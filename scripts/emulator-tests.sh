#!/usr/bin/env bash
# Builds the CUDA backend for the CPU emulator (-DGANTRY_CUDA=EMU, build dir build-emu; needs the CUDA
# toolkit's headers, not nvcc or a GPU) and runs the CUDA suite on the emulated device, once per thread
# schedule: `ctest -L cuda -LE slow` (the CUDA instances of the unit suites, the trainers on cuda
# against the CPU, the emulator's own checks; docs/cuda-emulator.md). A failure under one schedule
# but not another is code that depends on thread order.
#
#   bash scripts/emulator-tests.sh                      # schedules: forward and random:<seed>
#   SCHEDULES="forward reverse random:3" bash scripts/emulator-tests.sh
#   bash scripts/emulator-tests.sh -R CudaImage         # extra arguments go to every ctest run
#
# The random schedule's seed is printed, so a failure can be replayed with
# GANTRY_CUDA_EMU_SCHEDULE=random:<seed>. Nothing here measures a GPU: the emulator proves
# functional behaviour only. With ccache as the compiler launcher (scripts/test.sh sets it up) and the
# main build compiled first, the engine's non-CUDA sources come from the cache: they compile the same
# in both builds.
set -euo pipefail
cd "$(dirname "$0")/.."
schedules="${SCHEDULES:-forward random:${EMU_RANDOM_SEED:-$((RANDOM % 1000))}}"
cmake -S . -B build-emu -G "${GENERATOR:-Ninja}" -DCMAKE_BUILD_TYPE=Release -DGANTRY_CUDA=EMU >/dev/null
cmake --build build-emu -j"$(nproc)" --target gantry gantry_unit_tests gantry_e2e_tests gantry_learning_tests gantry-kprof
status=0
for schedule in $schedules; do
  echo "== CUDA suite on the emulator, schedule $schedule"
  start=$SECONDS
  GANTRY_CUDA_EMU_SCHEDULE="$schedule" ctest --test-dir build-emu -L cuda -LE slow -j"$(nproc)" \
    --output-on-failure --timeout 1800 "$@" || { status=1; echo "== FAILED under schedule $schedule"; }
  echo "== schedule $schedule: $((SECONDS - start)) s"
done
exit $status
