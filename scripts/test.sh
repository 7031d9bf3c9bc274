#!/usr/bin/env bash
# Installs dependencies, builds gantry and runs every test that can run on this machine
# (CUDA tests skip visibly when no GPU is present).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-deps.sh
bash scripts/build.sh
ctest --test-dir build -j"$(nproc)" --output-on-failure --timeout 900
