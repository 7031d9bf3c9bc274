#!/usr/bin/env bash
# Sets up a fresh machine, builds gantry and runs its main job: baseline vs top-k vs core-set GAN
# training on a 25-mode mixture of Gaussians (under 10 minutes on 2 cores), printing the table and
# where the sample pictures are. Extra arguments go to `gantry mog compare`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-deps.sh
bash scripts/build.sh
./build/gantry mog compare --out runs/compare "$@"
