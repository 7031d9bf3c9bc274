#!/usr/bin/env bash
# Builds gantry and its whole test suite with AddressSanitizer + UndefinedBehaviorSanitizer
# (-DGANTRY_SANITIZE=ON: -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer,
# -O2 -g1, CPU backend only) into ./build-asan and runs every test there. -g1's line tables keep every
# report symbolised to file:line and compile in far less time than full -g. Any report (memory error,
# leak, undefined behaviour) stops the program and fails its test; the `sanitizer` tests check that
# planted bugs are reported. Extra arguments go to ctest, e.g. `bash scripts/sanitize.sh -R Autograd`.
#   [GENERATOR="Unix Makefiles"] [GANTRY_CUDA=OFF] bash scripts/sanitize.sh [ctest arguments]
# GANTRY_CUDA=AUTO with nvcc off PATH (as scripts/test.sh runs it) also checks that AUTO skips the CUDA
# backend when there is no nvcc: the configure fails if it is found.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-asan -G "${GENERATOR:-Unix Makefiles}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGANTRY_SANITIZE=ON \
      -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" \
      -DGANTRY_CUDA="${GANTRY_CUDA:-OFF}" >/dev/null
# Halt/abort on the first report (also while the build lists the GoogleTest cases); leaks, use after return and initialisation order checked as well.
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1"
cmake --build build-asan -j"$(nproc)"
ctest --test-dir build-asan -j"$(nproc)" --output-on-failure --timeout 1800 "$@"
