#!/usr/bin/env bash
# Configures and builds gantry into ./build (Release). The CUDA backend is compiled when nvcc is found
# (it is on PATH or at /usr/local/cuda/bin/nvcc); pass GANTRY_CUDA=OFF to skip it.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then export PATH="/usr/local/cuda/bin:$PATH"; fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DGANTRY_CUDA="${GANTRY_CUDA:-AUTO}" >/dev/null
cmake --build build -j"$(nproc)"
