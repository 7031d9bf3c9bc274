#!/bin/bash
# gantry against the same protocol in PyTorch, by outcome rather than speed: trains both engines with the
# same settings over the same seeds (their random streams differ, so runs pair only in distribution) and
# prints the mean +- std of % high quality, % modes recovered and within-mode std for each. A gap far
# outside the seed spread points at the engine; agreement says a result is the protocol's own.
#
#   [STEPS=8000] [LR=5e-4] [SEEDS=4] [MODES=25] [METHODS="baseline topk"] [GANTRY_FROM=DIR] \
#       bench/run_mog_outcome_check.sh [build-dir]
#
# GANTRY_FROM: read gantry's runs from a grid folder (DIR/m<modes>_<method>_seed<s>/metrics.json, e.g.
# bench/results/mog-table1 for STEPS=100000 LR=1e-4) instead of training them. Finished runs are cached
# under bench/results/mog-outcome/<label>/runs/, so an interrupted check resumes; the record is
# bench/results/mog-outcome/<label>.{json,md}. Runs at low CPU priority, one thread each.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
steps="${STEPS:-8000}" lr="${LR:-5e-4}" seeds="${SEEDS:-4}" modes="${MODES:-25}"
methods="${METHODS:-baseline topk}"
python=/usr/bin/python3
[ -x "$build/gantry" ] || [ -n "${GANTRY_FROM:-}" ] || { echo "run_mog_outcome_check: $build/gantry not found; build first" >&2; exit 1; }
"$python" -c "import torch" 2>/dev/null || { echo "run_mog_outcome_check: needs Debian's python3-torch (GANTRY_WITH_TORCH=1 scripts/setup-deps.sh)" >&2; exit 1; }
for m in $methods; do
  case "$m" in baseline|topk|coreset) ;; *) echo "run_mog_outcome_check: unknown method '$m' (baseline, topk, coreset)" >&2; exit 1 ;; esac
done
decay_every=$(( steps * 2000 / 100000 )); [ "$decay_every" -ge 1 ] || decay_every=1
label="m${modes}-${steps}steps-lr${lr}"
out="$root/bench/results/mog-outcome"
runs="$out/$label/runs"
mkdir -p "$runs"
for seed in $(seq 0 $((seeds - 1))); do
  for method in $methods; do
    name="${method}_seed${seed}"
    if [ ! -s "$runs/torch_$name.json" ]; then
      echo "[$(date +%H:%M:%S)] pytorch $name ($steps steps)"
      nice -n 19 "$python" "$root/bench/mog_outcome_torch.py" --modes "$modes" --steps "$steps" --lr "$lr" \
        --method "$method" --seed "$seed" --decay-every "$decay_every" --progress-every 0 > "$runs/torch_$name.tmp"
      mv "$runs/torch_$name.tmp" "$runs/torch_$name.json"
    fi
    if [ -n "${GANTRY_FROM:-}" ]; then
      src="$GANTRY_FROM/m${modes}_${method}_seed${seed}/metrics.json"
      [ -s "$src" ] || { echo "run_mog_outcome_check: $src not found (GANTRY_FROM)" >&2; exit 1; }
      cp "$src" "$runs/gantry_$name.json"
    elif [ ! -s "$runs/gantry_$name.json" ]; then
      echo "[$(date +%H:%M:%S)] gantry $name ($steps steps)"
      flags=()
      case "$method" in
        topk) flags=(--topk --decay-every "$decay_every") ;;
        coreset) flags=(--coreset-prior --coreset-data) ;;
      esac
      rm -rf "$runs/gantry_$name.run"
      OPENBLAS_NUM_THREADS=1 nice -n 19 "$build/gantry" mog train --quiet --modes "$modes" --steps "$steps" --lr "$lr" \
        --seed "$seed" --checkpoint-every 0 --log-every 0 "${flags[@]}" --out "$runs/gantry_$name.run" > /dev/null
      cp "$runs/gantry_$name.run/metrics.json" "$runs/gantry_$name.json"
      rm -rf "$runs/gantry_$name.run"
    fi
  done
done
RUNS="$runs" OUT="$out/$label" LABEL="$label" METHODS="$methods" SEEDS="$seeds" ROOT="$root" \
  GANTRY_SOURCE="${GANTRY_FROM:+the finished runs in $GANTRY_FROM}" "$python" - <<'PY'
import json, os, statistics, subprocess
runs, methods, seeds = os.environ["RUNS"], os.environ["METHODS"].split(), int(os.environ["SEEDS"])
keys = [("high_quality_percent", "% high quality", 1), ("modes_recovered_percent", "% modes recovered", 1),
        ("within_mode_std", "within-mode std", 3)]
def metrics(engine, name):
    d = json.load(open(os.path.join(runs, f"{engine}_{name}.json")))
    return d["final"] if engine == "gantry" else d
def spread(values, digits):
    mean = statistics.mean(values)
    if len(values) < 2:
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} +- {statistics.stdev(values):.{digits}f}"
commit = subprocess.run(["git", "-C", os.environ["ROOT"], "rev-parse", "--short", "HEAD"], capture_output=True,
                        text=True).stdout.strip()
record = {"label": os.environ["LABEL"], "commit": commit, "seeds": seeds, "cells": []}
lines = [f"# gantry vs PyTorch by outcome: {os.environ['LABEL']}", "",
         f"`bench/run_mog_outcome_check.sh`, commit {commit}; {seeds} seed(s) per engine and method, "
         "mean +- std over seeds. gantry's side: "
         + (os.environ["GANTRY_SOURCE"] or "trained by this check") + ".", "",
         "| method | engine | " + " | ".join(k[1] for k in keys) + " | per seed (HQ / modes) |",
         "|---|---|" + "---|" * len(keys) + "---|"]
for method in methods:
    for engine in ("gantry", "pytorch"):
        rows = [metrics("gantry" if engine == "gantry" else "torch", f"{method}_seed{s}") for s in range(seeds)]
        cell = {"method": method, "engine": engine,
                "runs": [{k: r[k] for k, _, _ in keys} for r in rows]}
        record["cells"].append(cell)
        per_seed = ", ".join(f"{r['high_quality_percent']:.1f} / {r['modes_recovered_percent']:.0f}" for r in rows)
        lines.append(f"| {method} | {engine} | " + " | ".join(spread([r[k] for r in rows], d) for k, _, d in keys)
                     + f" | {per_seed} |")
out = os.environ["OUT"]
with open(out + ".json", "w") as f:
    json.dump(record, f, indent=2)
with open(out + ".md", "w") as f:
    f.write("\n".join(lines) + "\n")
print("\n".join(lines))
print(f"\nwritten: {out}.md, {out}.json")
PY
