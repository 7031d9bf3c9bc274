#!/bin/bash
# Protocol variants of the mixture-of-Gaussians experiment that may explain the papers' baselines
# (docs/mixture-of-gaussians.md, "Protocol variants"): 25 modes, 100k steps, 3 seeds, each variant a
# `mog grid` of its own folder under bench/results/mog-variants/:
#   v1-uniform-prior        --prior uniform                                  baseline, topk, coreset
#   v2-four-layers-betas    --hidden-layers 4 --beta1 0.9 --beta2 0.999      baseline, topk
#   v3-both                 both of the above                                baseline, topk, coreset
# (coreset = core-sets on the prior and the data; with the uniform prior it draws from the hypercube).
# Seed 0 of every variant goes first, then seed 1, then seed 2, so a partial record compares every
# cell. Resumable: run it again and finished runs are kept, interrupted ones continue from their
# checkpoints (commit those with `git add -f` to carry a run over to another machine). At the lowest CPU
# priority, one run at a time by default, so it can share the machine. A run is ~75-100 minutes on one
# core of the 2-core development machine, ~33 CPU-hours in all.
#   [JOBS=1] [SEEDS=3] [ONLY=regex of variant names] [SUMMARY_ONLY=1] bench/run_mog_variants.sh [build-dir]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
[ -x "$build/gantry" ] || { echo "run_mog_variants: $build/gantry not found; build first (scripts/build.sh)" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cp "$build/gantry" "$tmp/gantry"  # a rebuild while the grids run changes nothing under them
out="$root/bench/results/mog-variants"
seeds="${SEEDS:-3}"

# name|methods|options
variants=(
  "v1-uniform-prior|baseline,topk,coreset|--prior uniform"
  "v2-four-layers-betas|baseline,topk|--hidden-layers 4 --beta1 0.9 --beta2 0.999"
  "v3-both|baseline,topk,coreset|--prior uniform --hidden-layers 4 --beta1 0.9 --beta2 0.999"
)

cd "$root"
first=1
[ "${SUMMARY_ONLY:-0}" = 1 ] && first=$seeds
for upto in $(seq "$first" "$seeds"); do
  for v in "${variants[@]}"; do
    IFS='|' read -r name methods options <<<"$v"
    if [ -n "${ONLY:-}" ] && ! [[ "$name" =~ $ONLY ]]; then continue; fi
    extra=()
    [ "${SUMMARY_ONLY:-0}" = 1 ] && extra=(--summary-only)
    echo "== $(date -u +%H:%M:%S) $name, seeds 0..$((upto - 1))"
    # shellcheck disable=SC2086  # options are words
    nice -n 19 "$tmp/gantry" mog grid --modes 25 --methods "$methods" --seeds "$upto" --jobs "${JOBS:-1}" \
      --steps 100000 --progress-every 600 $options --out "$out/$name" "${extra[@]}"
  done
done
