#!/bin/bash
# The image tables of the top-k and Small-GAN papers at a CPU budget: the same comparisons on CIFAR-10
# with small networks and short runs, each run scored at its end by a Fréchet distance on the FID
# Inception's Mixed_6e features (FD_mixed_6e: the published per-layer weights run it; it is NOT FID and
# is comparable only with itself). The protocol is in docs/image-gans.md ("Reproductions at a CPU
# budget"); the table goes to bench/results/image-repro-cpu/summary.md.
#
#   top-k Table 3       dcgan, wgan-gp, sngan x {baseline, top-k}, batch 64
#   Small-GAN Table 3   sngan: plain batch 128, core-set batch 128 (prior + data), plain batch 256
#   Small-GAN Table 6   sngan batch 128: D (prior core-set only), E (data core-set only)
#   x 3 seeds, seed 0 of every cell first so partial results already compare every cell.
#
# Resumable: run it again and finished runs are kept, an interrupted one restarts (checkpoints are not
# committed). At the lowest CPU priority, one run at a time, so it can share the machine.
#   [STEPS=1000] [EVAL_COUNT=1000] [REF_COUNT=5000] [SEEDS=3] [ONLY=regex of cell names] [OUT=folder]
#   [SUMMARY_ONLY=1] bench/run_image_repro_cpu.sh [build-dir]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
[ -x "$build/gantry" ] || { echo "run_image_repro_cpu: $build/gantry not found; build first (scripts/build.sh)" >&2; exit 1; }
weights="${GANTRY_SHARED_DIR:-$root/../shared}/inception-fid-partial/folded"
[ -d "$weights" ] || { echo "run_image_repro_cpu: the per-layer Inception weights are not at $weights (set GANTRY_SHARED_DIR)" >&2; exit 1; }
out="${OUT:-$root/bench/results/image-repro-cpu}"
steps="${STEPS:-1000}"
seeds="${SEEDS:-3}"
mkdir -p "$out"
# The caches that are slow to fill live beside the results and are committed with them: the reference
# statistics (5,000 CIFAR-10 training images through the network) and the core-set embeddings.
export GANTRY_FID_STATS_DIR="$out/fid-stats"

# A private copy of the binary, so a rebuild while this runs changes nothing under it.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cp "$build/gantry" "$tmp/gantry"

common=(--dataset cifar10 --image-size 32 --g-width 16 --d-width 16 --steps "$steps" --sample-every 0
        --checkpoint-every 100 --keep-checkpoints 0 --log-every 50 --quiet --embedding-cache "$out/embeddings"
        --eval-every "$steps" --eval-layer mixed_6e --eval-count "${EVAL_COUNT:-1000}"
        --eval-reference cifar10:train --eval-reference-count "${REF_COUNT:-5000}" --eval-weights "$weights")

# Small-GAN's data core-sets measure distances between Inception embeddings of the training images
# (embedded once, about 2 hours for CIFAR-10's 50,000 on 2 cores, then cached): Mixed_6e here, as
# pool3 needs the full weights file.
embedding="--coreset-embedding inception-mixed_6e --coreset-weights $weights"

# name|model|batch|method options
cells=(
  "t3_dcgan_baseline|dcgan|64|"
  "t3_dcgan_topk|dcgan|64|--topk"
  "t3_wgan-gp_baseline|wgan-gp|64|"
  "t3_wgan-gp_topk|wgan-gp|64|--topk"
  "t3_sngan_baseline|sngan|64|"
  "t3_sngan_topk|sngan|64|--topk"
  "sg_sngan_b128|sngan|128|"
  "sg_sngan_coreset_b128|sngan|128|--coreset-prior --coreset-data $embedding"
  "sg_sngan_b256|sngan|256|"
  "ab_D_prior_only_b128|sngan|128|--coreset-prior"
  "ab_E_data_only_b128|sngan|128|--coreset-data $embedding"
)

finished() { [ -f "$1/metrics.json" ] && grep -q '"finished": true' "$1/metrics.json"; }

if [ "${SUMMARY_ONLY:-0}" != 1 ]; then
  for seed in $(seq 0 $((seeds - 1))); do
    for cell in "${cells[@]}"; do
      IFS='|' read -r name model batch method <<<"$cell"
      if [ -n "${ONLY:-}" ] && ! [[ "$name" =~ $ONLY ]]; then continue; fi
      run="$out/${name}_seed$seed"
      if finished "$run"; then continue; fi
      # A run without its checkpoint (not committed) starts again; one with it continues.
      again=()
      if [ -f "$run/checkpoint.safetensors" ]; then again=(--resume); elif [ -d "$run" ]; then again=(--restart); fi
      echo "== $(date -u +%H:%M:%S) $name seed $seed"
      # shellcheck disable=SC2086  # method options are words
      nice -n 19 "$tmp/gantry" image train --model "$model" --batch "$batch" $method --seed "$seed" "${common[@]}" \
        "${again[@]}" --out "$run"
      rm -rf "$run/checkpoints"
    done
  done
fi
/usr/bin/python3 "$root/bench/image_repro_summary.py" "$out"
