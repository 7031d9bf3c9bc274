#!/usr/bin/env bash
# Builds gantry and its whole test suite with AddressSanitizer + UndefinedBehaviorSanitizer
# (-DGANTRY_SANITIZE=ON: -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer,
# -O1 -g1, CPU backend only) into ./build-asan and runs every test there. -O1 compiles a third faster
# than -O2 under the sanitizers and is what they are designed for; -g1's line tables keep every
# report symbolised to file:line. Any report (memory error, leak, undefined behaviour) stops the
# program and fails its test; the `sanitizer` tests check that planted bugs are reported. Extra
# arguments go to ctest, e.g. `bash scripts/sanitize.sh -R Autograd`.
#   [GENERATOR="Unix Makefiles"] [GANTRY_CUDA=OFF] [CXX=clang++] [FUZZ_HARNESSES=ON] bash scripts/sanitize.sh [ctest arguments]
# CXX picks the compiler (default: CMake's choice, g++). FUZZ_HARNESSES=ON (needs clang) also builds
# the libFuzzer harnesses of tests/fuzz in the same tree, the parser sources instrumented for them, so that
# `scripts/fuzz.sh --build build-asan` runs them without compiling the engine a third time.
# GANTRY_CUDA=AUTO with nvcc off PATH (as scripts/test.sh runs it) also checks that AUTO skips the CUDA
# backend when there is no nvcc: the configure fails if it is found.
set -euo pipefail
cd "$(dirname "$0")/.."
extra=()
[ -n "${CXX:-}" ] && extra+=(-DCMAKE_CXX_COMPILER="$CXX")
[ "${FUZZ_HARNESSES:-OFF}" = ON ] && extra+=(-DGANTRY_FUZZ=ON)
cmake -S . -B build-asan -G "${GENERATOR:-Unix Makefiles}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGANTRY_SANITIZE=ON \
      -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
      -DGANTRY_CUDA="${GANTRY_CUDA:-OFF}" "${extra[@]}" >/dev/null
# Halt/abort on the first report (also while the build lists the GoogleTest cases); leaks, use after return and initialisation order checked as well.
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1"
cmake --build build-asan -j"$(nproc)"
ctest --test-dir build-asan -j"$(nproc)" --output-on-failure --timeout 1800 "$@"
